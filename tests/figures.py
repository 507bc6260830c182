"""How sure a measured share is: the intervals printed next to the labelled sets' precision and recall."""

from __future__ import annotations

from scipy.stats import binomtest


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """The 95% Wilson score interval of ``successes / trials`` (scipy's), fit for small counts and for shares of 0 or 1; (0, 1) when there was no trial."""
    if trials == 0:
        return 0.0, 1.0
    interval = binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="wilson")
    return float(interval.low), float(interval.high)
