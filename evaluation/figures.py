"""How sure a measured share is, and whether it stays above its floor: what every evaluation prints and checks."""

from __future__ import annotations

from scipy.stats import binomtest


def wilson(successes: int, trials: int) -> tuple[float, float]:
    """The 95% Wilson score interval of ``successes / trials`` (scipy's), fit for small counts and for shares of 0 or 1; (0, 1) when there was no trial."""
    if trials == 0:
        return 0.0, 1.0
    interval = binomtest(successes, trials).proportion_ci(confidence_level=0.95, method="wilson")
    return float(interval.low), float(interval.high)


def share(successes: int, trials: int) -> str:
    """``successes/trials = 0.xxx [lo, hi]``: a share with its 95% interval, as the READMEs quote it."""
    low, high = wilson(successes, trials)
    value = successes / trials if trials else 0.0
    return f"{successes}/{trials} = {value:.3f} [{low:.2f}, {high:.2f}]"


class Floors:
    """The checks of one evaluation: figures against their floors, and facts about the labelled sets.

    Each check prints one line (``ok`` or ``UNDER``/``FAILED``); ``exit_code`` is 1 when one
    failed. A smoke run (``enforce=False``, a subset of the items) prints the same lines and
    exits 0: its figures mean nothing against floors set on the whole sets.
    """

    def __init__(self, *, enforce: bool = True) -> None:
        self.enforce = enforce
        self.failed: list[str] = []

    def at_least(self, name: str, value: float, floor: float, detail: object = "") -> None:
        """``value`` must stay at or above ``floor``."""
        ok = value >= floor
        print(f"  {'ok    ' if ok else 'UNDER '} {name}: {value:.3f} (floor {floor:.3f})")
        if not ok:
            self.failed.append(f"{name}: {value:.3f} < {floor:.3f}")
            if detail:
                print(f"        {detail}")

    def holds(self, name: str, condition: bool, detail: object = "") -> None:
        """A fact the sets or the figures must keep (ids unique, every item read twice ...)."""
        print(f"  {'ok    ' if condition else 'FAILED'} {name}")
        if not condition:
            self.failed.append(name)
            if detail:
                print(f"        {detail}")

    def exit_code(self) -> int:
        if not self.failed:
            return 0
        print(f"\n{len(self.failed)} check(s) failed: {'; '.join(self.failed)}")
        if not self.enforce:
            print("(smoke run on a subset: floors not enforced)")
            return 0
        return 1
