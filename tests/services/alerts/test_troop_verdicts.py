"""A regression on real news text: the troop-movement verdicts of a handful of labelled items the rule was tuned on (slow).

The items are ids into the research corpora, read at test time from the corpora folder
(``NEWS_CORPORA_DIR``; never copied here), drawn from the tuning splits only (``dev`` of
troop_dev.csv, ``tune2`` of troop_defence.csv), where the rule agrees with the label: running this
test is no look at a held-out set. One per source and label where the rule is right. The figures
on the whole sets, held-out ones included: ``make eval`` (evaluation/alerts/README.md).
"""

from __future__ import annotations

import pytest

from evaluation.alerts.labelled import Corpora
from services.alerts.evaluate import evaluate
from services.entities.extract import extract_entities_batch

from .conftest import FIRED_AT

pytestmark = pytest.mark.slow

RE3D_BBC = "BBC Online/3095FB15AFF7B552702E9EF46C083FDD"
VERDICTS = [  # (source, ref, a troop movement)
    ("ag", "34", True),  # tanks rolling back into Najaf amid gunfire: the clause, not the sentence
    ("ag", "39", True),  # "Afghan Army Dispatched to Calm Violence"
    ("ag", "100", False),  # an army major shooting at the Olympics
    ("ag", "108", False),  # Sudan vows to restore order: no movement
    ("cameo", "train:572", True),  # soldiers deployed to Nigeria's infantry school
    ("cameo", "train:30", False),  # an ambush: combat, not movement
    ("bbc", "politics/093.txt:337-439", True),  # a phased withdrawal of UK troops
    ("bbc", "business/164.txt:499-641", False),  # a court asked to send a dispute
    ("lee", "lee:47:199-326", True),  # dispatch a European military force
    ("lee", "lee:7:439-564", False),
    ("re3d", f"{RE3D_BBC}:582-730", True),  # Hezbollah has sent thousands of fighters
    ("re3d", f"{RE3D_BBC}:440-581", False),  # bombed weapons shipments: no personnel
    ("uci", "4464", True),  # "Libya forces mobilize to 'liberate' rebel-held oil ports"
    ("uci", "1694", False),  # "The phone war has moved to cars"
]


@pytest.fixture(scope="module")
def corpora() -> Corpora:
    corpora = Corpora()
    assert corpora.data.is_dir(), (
        f"the research corpora are missing at {corpora.data} (NEWS_CORPORA_DIR)"
    )
    return corpora


@pytest.mark.parametrize(
    ("source", "ref", "movement"), VERDICTS, ids=[f"{s}:{r}" for s, r, _ in VERDICTS]
)
def test_troop_movement_keeps_its_verdict_on_tuning_items(
    nlp, ruleset, parse, corpora, source, ref, movement
):
    enriched = extract_entities_batch([corpora.article(source, ref)], nlp)[0]
    alerts = evaluate(enriched, ruleset, parse, fired_at=FIRED_AT)
    assert any(a.rule_id == "troop_movement" for a in alerts) is movement
