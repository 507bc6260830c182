"""Tests for evaluation/events/movements.py: the issue's two movements, each alone through every stage (slow: the real models, AG News from the corpora folder)."""

from __future__ import annotations

from collections import Counter

import pytest

from evaluation.events.movements import (
    FRESH,
    ISSUE_MOVEMENTS,
    LABELS,
    MORE,
    can_be_one_event,
    load_reports,
    run,
    split_of,
)

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("movement", sorted(ISSUE_MOVEMENTS))
def test_each_movement_the_issue_names_opens_one_event_as_newswatch_process_runs_it(movement):
    reports = [r for r in load_reports("tune") if r.movement == movement]
    assert len(reports) >= 5
    outcomes, movements_of = run(reports)
    outcome = outcomes[movement]
    print(f"\n{movement}: {outcome.keys}")
    assert outcome.fired >= 4  # most of its reports raise an alert
    assert len(outcome.opened) == 1, outcome.keys
    assert len(outcome.joined) == 1


def test_the_split_is_by_movement_and_the_issues_movements_are_tuning():
    assert {split_of(m) for m in ISSUE_MOVEMENTS} == {"tune"}
    tune, held = load_reports("tune"), load_reports("held")
    assert not {r.movement for r in tune} & {r.movement for r in held}
    assert len(tune) + len(held) == len(load_reports("all")) == 141


def test_the_later_labels_are_all_held_out_and_read_from_their_corpora():
    more = load_reports("all", LABELS["more"])
    assert {split_of(r.movement, MORE) for r in more} == {"held"}
    assert load_reports("tune", LABELS["more"]) == []
    per_movement = Counter(r.movement for r in more)
    assert min(per_movement.values()) >= 2  # several reports each
    assert all(r.raw["text"].strip() for r in more)  # every ref found in lee or re3d
    first = {r.movement for r in load_reports("all")}
    assert not first & set(per_movement)
    assert len(first) + len(per_movement) >= 40  # the issue's size for the events set


def test_the_fresh_labels_are_held_out_new_movements_of_new_articles():
    fresh = load_reports("all", LABELS["fresh"])
    assert {split_of(r.movement, FRESH) for r in fresh} == {"held"}
    per_movement = Counter(r.movement for r in fresh)
    assert min(per_movement.values()) >= 2
    assert all(r.raw["text"].strip() for r in fresh)  # every ref found in its corpus
    earlier = load_reports("all", LABELS["first"]) + load_reports("all", LABELS["more"])
    assert not {r.movement for r in earlier} & set(per_movement)
    assert not {(r.source, r.ref) for r in earlier} & {(r.source, r.ref) for r in fresh}
    assert len(load_reports("all", LABELS["all"])) == len(earlier) + len(fresh)


def test_a_movement_told_by_two_rules_or_two_directions_cannot_be_one_event():
    assert can_be_one_event({("troop_movement", "in")})
    # a frame that read no direction is given the benefit of the doubt
    assert can_be_one_event({("troop_movement", "in"), ("troop_movement", "-")})
    assert not can_be_one_event({("troop_movement", "in"), ("troop_movement", "out")})
    assert not can_be_one_event({("troop_movement", "in"), ("naval_deployment", "-")})
