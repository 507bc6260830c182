"""Experiment: would a classifier learned from the labelled troop items do better than the rule?

NEEDS THE OPTIONAL ``eval`` EXTRA (scikit-learn, which the project does not otherwise depend on);
not part of ``make bench``. Run from the repository root:

    .venv/bin/pip install -e '.[eval]'
    .venv/bin/python -m evaluation.alerts.experiment_classifier              # tuning sets, 5-fold CV
    .venv/bin/python -m evaluation.alerts.experiment_classifier --held-out   # + a held-out look (count it: README.md)

A logistic regression (balanced classes) over an item's lemmas and dependency triples (head,
relation, child), with the rule's force and movement lemmas abstracted to FORCE and MOVE, parsed
by the alerts stage's pipeline. Trained on the tuning sets the rule was tuned on (dev and tune2,
566 items, 114 movements); C and threshold chosen by 5-fold cross-validation there; then scored
once on the adjudicated held-out items (986, 188 movements), alone and combined with the rule.

Measured 2026-12-02 (the only held-out look): cross-validated on the tuning sets, C=3, threshold
0.5: P 0.830 / R 0.728. Held out: the classifier P 0.702 / R 0.638, the rule P 0.886 / R 0.660,
either of the two P 0.715 / R 0.761, both P 0.910 / R 0.537. 566 labelled items teach a linear
model less than five rounds of hand-written syntax did; the recall a learned model could add
needs far more labelled movements (and, to ship it, labels on text the project may redistribute:
these items are ids into research-only corpora).
"""

from __future__ import annotations

import argparse

import numpy as np
import yaml

from evaluation.alerts.labelled import (
    DEFENCE_SET,
    DEV_SET,
    Corpora,
    adjudicated_held_out,
    read_items,
)
from evaluation.alerts.quality import FIRED_AT
from services.alerts.compile import load_rules
from services.alerts.evaluate import evaluate, make_parser
from services.alerts.handler import load_nlp as load_alerts_nlp
from services.alerts.rules import RULES_PATH
from services.entities.extract import extract_entities_batch
from services.entities.pipeline import load_nlp
from shared.embed import SentenceEmbedder


def main() -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise SystemExit(
            "this experiment needs scikit-learn: .venv/bin/pip install -e '.[eval]'"
        ) from None
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--held-out", action="store_true", help="score the chosen model on the held-out items"
    )
    args = parser.parse_args()
    entities_nlp, alerts_nlp = load_nlp("en_core_web_sm"), load_alerts_nlp("en_core_web_sm")
    ruleset = load_rules(vocab=alerts_nlp.vocab, embed=SentenceEmbedder())
    parse = make_parser(alerts_nlp)
    definitions = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))["definitions"]
    force = {w.lower() for w in definitions["force"] + definitions["armed_groups"]}
    move = set(definitions["move_verbs"]) | set(definitions["move_nouns"])

    def word_class(lemma: str) -> str | None:
        return "FORCE" if lemma in force else "MOVE" if lemma in move else None

    def features(article) -> dict[str, int]:
        doc = alerts_nlp(((article.title + ". ") if article.title else "") + article.text)
        found = {}
        for token in doc:
            lemma, head = token.lemma_.lower(), token.head.lemma_.lower()
            cls, head_cls = word_class(lemma), word_class(head)
            found["l=" + lemma] = 1
            if cls:
                found["c=" + cls] = 1
            if token.dep_ == "neg":
                found["neg"] = 1
            found[f"d={head_cls or head}|{token.dep_}|{cls or lemma}"] = 1
            if cls or head_cls:
                found[f"dc={head_cls or 'X'}|{token.dep_}|{cls or 'X'}"] = 1
        return found

    def rule_fires(article) -> bool:
        enriched = extract_entities_batch([article], entities_nlp)[0]
        return any(
            a.rule_id == "troop_movement"
            for a in evaluate(enriched, ruleset, parse, fired_at=FIRED_AT)
        )

    def figures(pred: np.ndarray, gold: np.ndarray) -> str:
        tp, fp, fn = int((pred & gold).sum()), int((pred & ~gold).sum()), int((~pred & gold).sum())
        return f"P {tp / (tp + fp) if tp + fp else 0:.3f} R {tp / (tp + fn):.3f} (tp {tp} fp {fp} fn {fn})"

    corpora = Corpora()
    tune = read_items(DEV_SET, corpora, split="dev") + read_items(
        DEFENCE_SET, corpora, split="tune2"
    )
    x = [features(i.article) for i in tune]
    y = np.array([i.label == "1" for i in tune])
    best: tuple[float, float, float] | None = None
    for c in (0.1, 0.3, 1.0, 3.0):
        for threshold in (0.5, 0.7):
            pred = np.zeros(len(y), bool)
            for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(x, y):
                vectorizer = DictVectorizer()
                model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
                model.fit(vectorizer.fit_transform([x[i] for i in train]), y[train])
                pred[test] = (
                    model.predict_proba(vectorizer.transform([x[i] for i in test]))[:, 1]
                    >= threshold
                )
            tp = int((pred & y).sum())
            f1 = 2 * tp / (pred.sum() + y.sum())
            print(f"C={c} threshold={threshold}: cross-validated {figures(pred, y)} F1 {f1:.3f}")
            if best is None or f1 > best[0]:
                best = (f1, c, threshold)
    assert best is not None
    _, c, threshold = best
    print(f"chosen: C={c} threshold={threshold}")
    if args.held_out:
        held = adjudicated_held_out(corpora)
        xh = [features(i.article) for i in held]
        yh = np.array([i.label == "1" for i in held])
        rule = np.array([rule_fires(i.article) for i in held])
        vectorizer = DictVectorizer()
        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
        model.fit(vectorizer.fit_transform(x), y)
        learned = model.predict_proba(vectorizer.transform(xh))[:, 1] >= threshold
        print(
            f"held out, adjudicated: rule {figures(rule, yh)}; classifier {figures(learned, yh)}; "
            f"either {figures(learned | rule, yh)}; both {figures(learned & rule, yh)}"
        )


if __name__ == "__main__":
    main()
