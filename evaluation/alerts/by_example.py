"""troop_movement decided by its examples: the four ways to decide and their thresholds, on labelled sets.

Tuning sets by default (``dev``, ``tune2``: no held-out look). ``--held-out`` scores the
adjudicated held-out items once with the rule as shipped: count it in README.md's looks.
Each item's article goes through the real entities stage once; each way of deciding then
evaluates the rules again over it (the classifier's scores are the same each time).

    .venv/bin/python -m evaluation.alerts.by_example
    .venv/bin/python -m evaluation.alerts.by_example --thresholds 0.3,0.5,0.7 --errors
"""

from __future__ import annotations

import argparse
import dataclasses

from evaluation.alerts.labelled import (
    DEFENCE_SET,
    DEV_SET,
    Corpora,
    Score,
    adjudicated_held_out,
    read_items,
)
from evaluation.alerts.quality import FIRED_AT
from services.alerts.classifier import Classifier
from services.alerts.compile import RuleSet, load_rules
from services.alerts.evaluate import evaluate, make_parser
from services.alerts.handler import load_nlp as load_alerts_nlp
from services.entities.extract import extract_entities_batch
from services.entities.pipeline import load_nlp
from shared.embed import SentenceEmbedder

MODES = ("syntax", "examples", "both", "either")


def variant(rules: RuleSet, mode: str, threshold: float) -> RuleSet:
    """The shipped rules with troop_movement deciding by ``mode`` at ``threshold``."""
    out = []
    for compiled in rules.rules:
        if compiled.id == "troop_movement":
            rule = compiled.rule.model_copy(update={"decide": mode, "threshold": threshold})
            classifier = compiled.classifier
            if classifier is not None:
                classifier = dataclasses.replace(classifier, threshold=threshold)
            compiled = dataclasses.replace(compiled, rule=rule, classifier=classifier)
        out.append(compiled)
    return dataclasses.replace(rules, rules=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--thresholds", default="0.5", help="comma-separated")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument(
        "--held-out", action="store_true", help="the adjudicated held-out items: a look"
    )
    parser.add_argument(
        "--errors", action="store_true", help="list errors (refused with --held-out)"
    )
    args = parser.parse_args(argv)
    if args.held_out and args.errors:
        parser.error("held-out errors are never printed")
    corpora = Corpora()
    if args.held_out:
        sets = {"adjudicated held-out": adjudicated_held_out(corpora)}
    else:
        sets = {
            "dev": read_items(DEV_SET, corpora, split="dev"),
            "tune2": read_items(DEFENCE_SET, corpora, split="tune2"),
        }
    entities_nlp, alerts_nlp = load_nlp("en_core_web_sm"), load_alerts_nlp("en_core_web_sm")
    rules = load_rules(vocab=alerts_nlp.vocab, embed=SentenceEmbedder(threads=2))
    parse = make_parser(alerts_nlp)
    (troop,) = [r for r in rules.rules if r.id == "troop_movement"]
    if not isinstance(troop.classifier, Classifier):
        parser.error("troop_movement has no examples")
    for name, items in sets.items():
        enriched = extract_entities_batch([i.article for i in items], entities_nlp, batch_size=16)
        for mode in args.modes.split(","):
            for threshold in [float(t) for t in args.thresholds.split(",")]:
                ruleset = variant(rules, mode, threshold)
                result = Score(errors=[])
                for item, article in zip(items, enriched, strict=True):
                    alerts = evaluate(article, ruleset, parse, fired_at=FIRED_AT)
                    fired = any(a.rule_id == "troop_movement" for a in alerts)
                    gold = item.label == "1"
                    result.tp += fired and gold
                    result.fp += fired and not gold
                    result.fn += gold and not fired
                    if fired != gold and result.errors is not None:
                        text = " ".join(item.article.text.split())[:200]
                        result.errors.append(f"{'FP' if fired else 'FN'} {item.ref}: {text}")
                print(f"{name:8s} {mode:8s} t={threshold:.2f} {result}")
                if args.errors and result.errors:
                    for error in result.errors:
                        print(f"    {error}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
