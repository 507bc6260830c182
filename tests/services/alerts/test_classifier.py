"""Rules by example: a classifier learned from examples decides, stored beside them, learned again when they change."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import yaml

from services.alerts.classifier import read_artefact, train
from services.alerts.compile import artefact_path, build_artefacts, load_rules
from services.alerts.evaluate import evaluate
from services.alerts.examples import read_examples
from services.alerts.rules import RulesError
from shared.embed import SentenceEmbedder

from .conftest import FIRED_AT

FIRE = [
    "The army sent two battalions to the northern border on Monday.",
    "About 3,000 troops were deployed to the capital after the coup.",
    "Peacekeepers arrived in the town to take over from the rebels.",
    "The government ordered its soldiers to withdraw from the disputed hills.",
    "NATO will dispatch another 1,500 troops to the region, officials said.",
    "Marines landed at the port early on Tuesday.",
    "The last British troops left the base in a convoy.",
    "Russia moved tanks and paratroopers towards the frontier.",
    "Rebel fighters pulled out of the city overnight.",
    "The president agreed to send a contingent of 200 soldiers.",
    "Troops poured into the province as the offensive began.",
    "India mobilised reserve units along the line of control.",
]
SILENT = [
    "The company will sell its gaming unit to a rival for $2bn.",
    "Market forces drove the price of copper to a record.",
    "Investors withdrew $1bn from the fund last month.",
    "The squad travels to Madrid for the final on Sunday.",
    "Police were deployed to control the crowd at the stadium.",
    "Soldiers fired on protesters, killing three.",
    "The ministry denied that any troops had been sent.",
    "The bank drew down its credit line to pay suppliers.",
    "The club signed a new striker from Ajax.",
    "Brute force budget cuts will not fix the deficit.",
    "The carmaker sold 62,000 units in March.",
    "Parliament passed the budget after a long debate.",
]
NEW_MOVEMENT = "Hundreds of soldiers were flown to the island to reinforce the garrison."
NEW_BUSINESS = "The retailer will close its loss-making furniture unit next year."


@pytest.fixture(scope="module")
def embed() -> SentenceEmbedder:
    return SentenceEmbedder()


def rules_file(tmp_path: Path, **rule) -> Path:
    (tmp_path / "examples").mkdir(exist_ok=True)
    (tmp_path / "examples" / "moves.yaml").write_text(
        yaml.safe_dump({"rule": "moves", "fire": FIRE, "silent": SILENT}), encoding="utf-8"
    )
    spec = {"id": "moves", "examples": ["examples/moves.yaml"], **rule}
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"rules": [spec]}), encoding="utf-8")
    return path


def never_parse(texts, with_ner):
    raise AssertionError("a rule decided by examples alone parses nothing")


def test_a_rule_by_examples_fires_on_a_movement_it_was_not_shown_and_not_on_business(
    tmp_path, embed, make_enriched
):
    rules = load_rules(rules_file(tmp_path), embed=embed)
    article = make_enriched(f"{NEW_MOVEMENT} {NEW_BUSINESS}")
    alerts = evaluate(article, rules, never_parse, fired_at=FIRED_AT)
    assert [a.evidence for a in alerts] == [NEW_MOVEMENT]
    assert alerts[0].rule_id == "moves" and alerts[0].frame is None


def test_candidates_limit_what_is_embedded(tmp_path, embed, make_enriched):
    rules = load_rules(rules_file(tmp_path, candidates={"words": ["island"]}), embed=embed)
    article = make_enriched(f"{NEW_MOVEMENT} Troops were sent to the border.")
    alerts = evaluate(article, rules, never_parse, fired_at=FIRED_AT)
    assert [a.evidence for a in alerts] == [NEW_MOVEMENT]  # the second is no candidate


def test_training_is_deterministic_and_the_artefact_round_trips(tmp_path, embed):
    rules_file(tmp_path)
    examples = read_examples([tmp_path / "examples" / "moves.yaml"], rule="moves")
    vectors = embed(examples.texts)
    first = train(examples, vectors, model=embed.digest)
    again = train(examples, vectors, model=embed.digest)
    assert np.array_equal(first.weights, again.weights) and first.bias == again.bias
    assert first.counts == (len(FIRE), len(SILENT))
    path = tmp_path / "c.json"
    path.write_text(json.dumps(first.to_json()))
    stored = read_artefact(path)
    assert stored is not None and stored.fresh_for(examples, embed.digest)
    assert np.allclose(stored.probabilities(vectors), first.probabilities(vectors), atol=1e-5)


def test_build_stores_the_classifier_and_loading_uses_it_until_the_examples_change(
    tmp_path, embed, caplog
):
    path = rules_file(tmp_path)
    (built,) = build_artefacts(path, embed)
    assert built.artefact == artefact_path(built.rule, tmp_path) and built.artefact.is_file()
    assert built.classifier.counts == (len(FIRE), len(SILENT))
    caplog.set_level(logging.WARNING, "newswatch")
    load_rules(path, embed=embed)
    assert not caplog.records  # the stored classifier is fresh: nothing learned
    # Without the embedder, a fresh artefact is enough to load (and validate) the rules.
    assert load_rules(path).rules[0].classifier is not None
    examples = tmp_path / "examples" / "moves.yaml"
    examples.write_text(
        yaml.safe_dump({"fire": [*FIRE, NEW_MOVEMENT], "silent": SILENT}), encoding="utf-8"
    )
    rules = load_rules(path, embed=embed)
    assert "learned from 25 examples" in caplog.text
    assert rules.rules[0].classifier is not None and rules.rules[0].classifier.counts == (13, 12)
    assert examples in rules.files and built.artefact in rules.files
    with pytest.raises(RulesError, match="needs the embedding model"):
        load_rules(path)  # stale artefact, no embedder


def test_the_rule_threshold_wins_over_the_stored_one(tmp_path, embed, make_enriched):
    path = rules_file(tmp_path, threshold=0.999)
    build_artefacts(path, embed)
    rules = load_rules(path, embed=embed)
    assert rules.rules[0].classifier is not None and rules.rules[0].classifier.threshold == 0.999
    assert evaluate(make_enriched(NEW_MOVEMENT), rules, never_parse, fired_at=FIRED_AT) == []


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"decide": "both"}, "decide: both needs conditions"),
        ({"examples": [], "decide": "examples"}, "decide: examples needs examples"),
        ({"examples": ["examples/none.yaml"]}, "examples: .*cannot read"),
        ({"threshold": 1.5}, "threshold"),
    ],
)
def test_a_rule_that_cannot_decide_is_refused(tmp_path, embed, rule, message):
    with pytest.raises(RulesError, match=message):
        load_rules(rules_file(tmp_path, **rule), embed=embed)
