"""Precision and recall of ``troop_movement`` on hand-labelled news items, headlines included, through the real entities and alerts stages (slow).

Run: ``.venv/bin/python -m pytest -m slow tests/services/alerts/test_quality.py -s`` (prints the figures).

The sets store ids and labels only; the text is read from /work/shared/data at test time (those
corpora are research-only). An item is positive when the rule fires on any of its sentences or
on its title (AG News and Reuters items have one).

``troop_dev.csv`` (758 items; built by the previous author): every AG News test row (headline +
snippet), CAMEO sentence (train and test) and BBC sentence that names troops, soldiers, forces,
army, peacekeepers, contingents etc., or a movement verb (deploy, withdraw, pull out, send,
arrive, invade, mass) together with a military or conflict word. Labelled by hand, one annotator,
before any rule was tuned: 1 = it reports or discusses a movement of troops, military personnel
or units: deployment, dispatch, arrival, withdrawal/pull-out/drawdown, mobilisation,
reinforcement or reduction, advancing into or leaving a place, including planned, offered and
demanded movements. 0 = combat, casualties, trials, presence or alert without movement, weapons
or vessels without personnel, every non-military sense (market forces, joined forces). "?" =
undecidable, left out. Split by md5(source:ref) parity into ``dev`` and ``holdout``.

Issue 10 changed the definition: a movement the item only denies, negates, refuses or rules out
is now 0 (the alert is about movements that happen or are planned, offered or demanded; a
conditional "if Tokyo does not withdraw its troops" stays 1: a demand). To relabel, every item
labelled 1 whose text holds not/n't/never/no/deny/refuse/reject/rule out/won't/without was read
again (15 items, both halves); 6 became 0: ag:513, ag:2989, ag:6952, cameo:test:232,
cameo:test:233, cameo:test:243 (dev and holdout mixed).

The rule was tuned on ``dev`` only. ``holdout`` had been looked at once by the previous author
and was looked at again after this rewrite (no change followed from its errors), so it is no
longer a clean held-out set. Hence ``troop_fresh.csv``: Reuters-21578 stories (headline + first
sentence of the body, 1987) that no one had used here, chosen by the same kind of keyword filter
(a force or movement word together with a military or conflict word; exact repeats dropped: 190
items) and labelled by hand with the definition above BEFORE the new rule was run on them;
1 = 12 items (mostly 1987 business news mentioning the Army or Navy as a customer: few positives,
so its recall moves by 8 points per item). Its errors were read after it was scored, not tuned on.

Second tuning round (frames, and general dependency patterns: object control "called on troops
to leave", participle/infinitive clauses on the force "troops trying to enter", "call in/up",
a state with a movement noun): made from the errors of ``dev`` and hand-made unit sentences
only. After it the held-out halves were scored ONCE, figures only: ``holdout`` has now been
looked at three times, ``fresh`` twice, and no change was made from their errors. Measured then:
dev 1.000/0.973, holdout 0.873/0.795, fresh 0.778/0.583 (precision/recall): the dev gain did not
carry over (holdout recall +1 point, holdout precision -1 point, fresh one more false positive).

Thresholds sit just under those figures (README, "Quality"); the issue's goal (precision >= 0.95,
recall >= 0.92 on held-out) is not reached on held-out data.
"""

from __future__ import annotations

import pytest

from services.alerts import core
from services.entities.core import extract_entities, load_nlp

from .conftest import FIRED_AT
from .labelled import DEV_SET, FRESH_SET, Corpora, read_items, score

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def entities_nlp():
    return load_nlp("en_core_web_sm")


@pytest.fixture(scope="module")
def corpora() -> Corpora:
    corpora = Corpora()
    if not corpora.data.is_dir():
        pytest.fail(f"the shared corpora are missing at {corpora.data}")
    return corpora


@pytest.mark.parametrize(
    ("path", "split", "min_precision", "min_recall"),
    [(DEV_SET, "dev", 0.98, 0.95), (DEV_SET, "holdout", 0.86, 0.78), (FRESH_SET, "fresh", 0.75, 0.55)],
)
def test_troop_movement_precision_and_recall(ruleset, parse, entities_nlp, corpora, path, split,
                                             min_precision, min_recall):
    def fires(article) -> bool:
        enriched = extract_entities(article, entities_nlp)
        return any(a.rule_id == "troop_movement" for a in core.evaluate(enriched, ruleset, parse, fired_at=FIRED_AT))

    result = score(read_items(path, corpora, split=split), fires)
    print(f"\n{split}: {result}")
    assert result.precision >= min_precision, result.errors
    assert result.recall >= min_recall, result.errors


def test_the_sets_store_ids_and_labels_only_and_the_split_is_reproducible():
    import csv
    import hashlib

    for path, sources in ((DEV_SET, {"ag", "cameo", "bbc"}), (FRESH_SET, {"reuters"})):
        with path.open(encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert set(rows[0]) == {"source", "ref", "label", "split"}
        assert {r["label"] for r in rows} <= {"0", "1", "?"}
        assert {r["source"] for r in rows} == sources
        for r in rows:
            if path == DEV_SET:
                parity = int(hashlib.md5(f"{r['source']}:{r['ref']}".encode()).hexdigest(), 16) % 2
                assert r["split"] == ("dev" if parity == 0 else "holdout")
            else:
                assert r["split"] == "fresh"
