"""The stories scorer: BCubed by hand-checked cases, and its interval over resampled stories."""

from __future__ import annotations

import pytest

from evaluation.stories.quality import bcubed, bcubed_interval


def test_a_perfect_clustering_scores_one() -> None:
    assert bcubed(["x", "x", "y"], ["a", "a", "b"]) == (1.0, 1.0, 1.0)


def test_one_cluster_of_everything_keeps_recall_and_loses_precision() -> None:
    precision, recall, _ = bcubed(["x"] * 4, ["a", "a", "b", "b"])
    # each item shares its cluster of 4 with 2 of its own story
    assert precision == pytest.approx(0.5)
    assert recall == 1.0


def test_the_interval_holds_the_point_and_parts_good_from_poor() -> None:
    gold = [f"s{i // 3}" for i in range(60)]
    good = list(gold)
    good[0], good[4] = "s1", "s0"  # two items swapped between stories 0 and 1
    mixed = [f"p{i % 7}" for i in range(60)]
    point = bcubed(good, gold)[2]
    low, high = bcubed_interval(good, gold, draws=500)
    assert low <= point <= high
    m_low, m_high = bcubed_interval(mixed, gold, draws=500)
    assert m_high < low  # a poor clustering's interval lies wholly below a good one's


def test_a_clustering_that_agrees_exactly_has_no_spread() -> None:
    gold = [f"s{i // 2}" for i in range(20)]
    assert bcubed_interval(gold, gold, draws=200) == (1.0, 1.0)
