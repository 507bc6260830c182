"""The shipped rules by example: troop_movement's classifier vetoes other senses of its words; naval_deployment learned from examples alone (slow: the real models)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

# Sentences the syntax of troop_movement alone fires on, in the non-military senses that made up
# half of its alerts on a stream of general news (written for this test).
OTHER_SENSES = [
    "Car unit sales rose to 6.8 million, an increase of 60,000 units on the year.",
    "The law says more force may be used in self-defence when the danger is greater.",
]
MOVEMENTS = [
    "Russia sent about 100 troops to Venezuela on Saturday.",
    "Britain will withdraw its 800 troops from southern Iraq by the summer.",
]


def fired(run, text, rules=None) -> list[str]:
    return [alert.rule_id for alert in run(text, rules)]


@pytest.mark.parametrize("text", OTHER_SENSES)
def test_the_classifier_vetoes_what_the_syntax_alone_would_fire_on(run, ruleset, text):
    assert fired(run, text) == ["troop_movement"]  # the syntax alone
    assert fired(run, text, ruleset) == []  # as shipped: the examples disagree


@pytest.mark.parametrize("text", MOVEMENTS)
def test_a_movement_fires_with_its_frame_as_shipped(run, ruleset, text):
    (alert,) = run(text, ruleset)
    assert alert.rule_id == "troop_movement" and alert.frame is not None


def test_troop_movement_decides_with_both_and_naval_deployment_with_its_examples(ruleset):
    by_id = {rule.id: rule for rule in ruleset.rules}
    assert by_id["troop_movement"].deciding == "both"
    assert by_id["naval_deployment"].deciding == "examples"
    assert all(by_id[r].classifier is not None for r in ("troop_movement", "naval_deployment"))


def test_a_naval_deployment_fires_and_an_airline_fleet_does_not(run, ruleset):
    sent = "The navy sent two destroyers and a frigate to the eastern Mediterranean on Monday."
    assert [a.rule_id for a in run(sent, ruleset) if a.rule_id == "naval_deployment"] == [
        "naval_deployment"
    ]
    fleet = "The airline will replace its fleet of regional jets with larger aircraft next year."
    assert not [a for a in run(fleet, ruleset) if a.rule_id == "naval_deployment"]


def test_the_matched_clause_is_scored_when_the_sentence_reads_as_combat(run, ruleset, embedder):
    text = (
        "Explosions and gunfire rattled through the old city on Sunday as troops in armoured "
        "vehicles and tanks rolled back into its streets, a day after talks collapsed."
    )
    (troop,) = [r for r in ruleset.rules if r.id == "troop_movement"]
    assert troop.classifier is not None
    sentence_alone = float(troop.classifier.probabilities(embedder([text]))[0])
    assert sentence_alone < troop.classifier.threshold  # the whole sentence reads as combat
    assert [a.rule_id for a in run(text, ruleset)] == ["troop_movement"]  # its clause does not
