"""The ceiling of a classifier over frozen sentence embeddings for troop_movement, on the tuning sets only.

No held-out look: everything here is cross-validated on ``dev`` and ``tune2`` (566 items, 114
movements), the sets the syntax was tuned on. A logistic regression over the shipped embedder's
vectors is learned from the rule's examples, from the tuning items themselves (5-fold, the
scored fold left out), or from both, and scored on each left-out item (the highest P over its
sentences and the item as a whole). It is printed alone and combined with the syntax as
``either`` and ``both``.

Learning from the tuning items is the most a classifier of this kind could get from the research
corpora (issue 19 allows an artefact trained on them): they come from the same corpora and
splits as the held-out items, so their cross-validated figure bounds what that artefact would
score held out.

    .venv/bin/python -m evaluation.alerts.ceiling
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from evaluation.alerts.by_example import variant
from evaluation.alerts.labelled import DEFENCE_SET, DEV_SET, Corpora, read_items
from evaluation.alerts.quality import FIRED_AT
from evaluation.figures import wilson
from services.alerts.compile import load_rules
from services.alerts.evaluate import evaluate, make_parser
from services.alerts.examples import read_examples
from services.alerts.handler import load_nlp as load_alerts_nlp
from services.alerts.rules import RULES_PATH
from services.entities.extract import extract_entities_batch
from services.entities.pipeline import load_nlp
from shared.embed import SentenceEmbedder

TRAINED_ON = {"examples": (True, False), "tuning items": (False, True), "both": (True, True)}
THRESHOLDS = (0.5, 0.7, 0.85)
CS = (1.0, 4.0)


def figure(predicted: np.ndarray, gold: np.ndarray) -> str:
    """Precision and recall with 95% intervals."""
    tp = int((predicted & gold).sum())
    fired, positives = int(predicted.sum()), int(gold.sum())
    p, r = wilson(tp, fired), wilson(tp, positives)
    return f"P {tp / max(fired, 1):.3f} [{p[0]:.2f}, {p[1]:.2f}] R {tp / positives:.3f} [{r[0]:.2f}, {r[1]:.2f}]"


def cross_validated(
    parts: list[np.ndarray],
    items: np.ndarray,
    gold: np.ndarray,
    examples: tuple[np.ndarray, np.ndarray],
    *,
    use_examples: bool,
    use_items: bool,
    c: float,
) -> np.ndarray:
    """Each item's P(fire) from a classifier that never saw it (5 stratified folds, seeded)."""
    scores = np.zeros(len(gold))
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(items, gold):
        xs, ys = [], []
        if use_examples:
            xs.append(examples[0])
            ys.append(examples[1])
        if use_items:
            xs.append(items[train])
            ys.append(gold[train])
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
        model.fit(np.vstack(xs), np.concatenate(ys))
        for i in test:
            scores[i] = model.predict_proba(np.vstack([parts[i], items[i : i + 1]]))[:, 1].max()
    return scores


def main() -> int:
    corpora = Corpora()
    labelled = read_items(DEV_SET, corpora, split="dev") + read_items(
        DEFENCE_SET, corpora, split="tune2"
    )
    entities_nlp, alerts_nlp = load_nlp("en_core_web_sm"), load_alerts_nlp("en_core_web_sm")
    embed = SentenceEmbedder(threads=2)
    rules = load_rules(vocab=alerts_nlp.vocab, embed=embed)
    parse = make_parser(alerts_nlp)
    enriched = extract_entities_batch([i.article for i in labelled], entities_nlp, batch_size=16)
    syntax_rules = variant(rules, "syntax", 0.5)
    syntax = np.array(
        [
            any(
                a.rule_id == "troop_movement"
                for a in evaluate(e, syntax_rules, parse, fired_at=FIRED_AT)
            )
            for e in enriched
        ]
    )
    gold = np.array([i.label == "1" for i in labelled])
    texts = [
        [t for t in ([i.article.title or ""] + [s.text for s in i.article.sentences]) if t.strip()]
        or [i.article.text]
        for i in labelled
    ]
    parts = [embed(t) for t in texts]
    items = np.vstack([p.mean(axis=0) for p in parts])
    items /= np.linalg.norm(items, axis=1, keepdims=True)
    (troop,) = [r for r in rules.rules if r.id == "troop_movement"]
    read = read_examples([RULES_PATH.parent / name for name in troop.rule.examples], rule=troop.id)
    examples = (embed(read.texts), np.array(read.labels))
    print(f"{len(gold)} tuning items, {int(gold.sum())} movements; {len(examples[1])} examples")
    print(f"syntax alone: {figure(syntax, gold)}")
    for name, (use_examples, use_items) in TRAINED_ON.items():
        for c in CS:
            scores = cross_validated(
                parts, items, gold, examples, use_examples=use_examples, use_items=use_items, c=c
            )
            for t in THRESHOLDS:
                fired = scores >= t
                print(
                    f"learned from {name:12s} C={c:<3} t={t:.2f}  alone {figure(fired, gold)}"
                    f" | either {figure(syntax | fired, gold)}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
