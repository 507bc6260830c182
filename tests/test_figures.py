"""The interval printed with the labelled sets' figures."""

from __future__ import annotations

from tests.figures import wilson


def test_the_interval_holds_the_share_and_narrows_as_the_set_grows():
    for successes, trials in ((35, 46), (1, 12), (0, 10), (10, 10)):
        low, high = wilson(successes, trials)
        assert 0.0 <= low <= successes / trials <= high <= 1.0
    small, large = wilson(3, 4), wilson(300, 400)
    assert large[1] - large[0] < small[1] - small[0]
    # A share of 1 over ten trials is not certainty: the interval reaches well below it.
    assert wilson(10, 10)[0] < 0.8
    assert wilson(0, 0) == (0.0, 1.0)
