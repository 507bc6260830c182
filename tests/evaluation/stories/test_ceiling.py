"""The stories' ceiling: the offline grouping finds the cut that recovers separable stories."""

from __future__ import annotations

import numpy as np

from evaluation.stories.ceiling import best_cut


def test_the_best_cut_recovers_stories_that_a_threshold_separates() -> None:
    gold = ["a", "a", "a", "b", "b", "c"]
    similarity = np.full((6, 6), 0.1)
    similarity[:3, :3] = 0.8  # story a: close to one another
    similarity[3:5, 3:5] = 0.6  # story b: less close, still above what joins a to b
    np.fill_diagonal(similarity, 1.0)
    cut, f1, labels = best_cut(similarity, gold)
    assert f1 == 1.0
    assert labels[0] == labels[1] == labels[2] != labels[3] == labels[4] != labels[5]
    assert 0.4 <= cut < 0.9  # between the looser story's distance and the gap between stories


def test_no_cut_can_split_what_the_similarity_does_not_tell_apart() -> None:
    # two stories whose items are all alike: the best any cut can do is less than one
    similarity = np.full((4, 4), 0.9)
    np.fill_diagonal(similarity, 1.0)
    _, f1, _ = best_cut(similarity, ["a", "a", "b", "b"])
    assert f1 < 1.0
