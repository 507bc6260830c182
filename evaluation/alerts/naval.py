"""naval_deployment, a rule learned from examples alone, scored on its labelled check set.

The set (``naval_deployment.csv``: source, ref, label; text read from the corpora folder) was
drawn from Reuters-21578, BBC and AG News by naval keyword plus a random sample, and labelled
blind by one reader (NAVAL.md). Every run is a look at it: count it in README.md.

    .venv/bin/python -m evaluation.alerts.naval [--thresholds 0.3,0.5,0.7]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
from pathlib import Path

from evaluation.alerts.labelled import Corpora, Score
from evaluation.alerts.quality import FIRED_AT
from services.alerts.compile import load_rules
from services.alerts.evaluate import evaluate, make_parser
from services.alerts.handler import load_nlp as load_alerts_nlp
from services.entities.extract import extract_entities_batch
from services.entities.pipeline import load_nlp
from shared.embed import SentenceEmbedder

CHECK_SET = Path(__file__).with_name("naval_deployment.csv")
RULE = "naval_deployment"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--thresholds", default="0.5", help="comma-separated")
    args = parser.parse_args(argv)
    corpora = Corpora()
    with CHECK_SET.open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["label"] in ("0", "1")]
    articles = [corpora.article(r["source"], r["ref"]) for r in rows]
    entities_nlp, alerts_nlp = load_nlp("en_core_web_sm"), load_alerts_nlp("en_core_web_sm")
    rules = load_rules(vocab=alerts_nlp.vocab, embed=SentenceEmbedder(threads=2))
    parse = make_parser(alerts_nlp)
    enriched = extract_entities_batch(articles, entities_nlp, batch_size=16)
    for threshold in [float(t) for t in args.thresholds.split(",")]:
        ruleset = dataclasses.replace(
            rules,
            rules=[
                dataclasses.replace(
                    r, classifier=dataclasses.replace(r.classifier, threshold=threshold)
                )
                if r.id == RULE and r.classifier is not None
                else r
                for r in rules.rules
            ],
        )
        result = Score()
        for row, article in zip(rows, enriched, strict=True):
            fired = any(
                a.rule_id == RULE for a in evaluate(article, ruleset, parse, fired_at=FIRED_AT)
            )
            gold = row["label"] == "1"
            result.tp += fired and gold
            result.fp += fired and not gold
            result.fn += gold and not fired
        print(f"{RULE} on {CHECK_SET.name} ({len(rows)} items) t={threshold:.2f}: {result}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
