"""Tests for evaluation/events/movements.py: the issue's two movements, each alone through every stage (slow: the real models, AG News from the corpora folder)."""

from __future__ import annotations

import pytest

from evaluation.events.movements import ISSUE_MOVEMENTS, load_reports, run, split_of

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
