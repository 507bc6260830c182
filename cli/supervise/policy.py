"""The restart policy of ``newswatch run``: backoff and bounded tries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class GiveUp(RuntimeError):
    """A worker or the broker failed more often than the policy allows: stop everything, exit 1."""


@dataclass(frozen=True)
class Restart:
    """One restart decided by the policy: what, why, which try of how many, and after how long."""

    target: str
    cause: str
    attempt: int
    limit: int
    delay_s: float

    def describe(self) -> str:
        """The line `newswatch run` prints, e.g. ``restarting dedup (exited with -9), try 1/5 in 10 s``."""
        return (
            f"restarting {self.target} ({self.cause}), try {self.attempt}/{self.limit} "
            f"in {self.delay_s:.0f} s"
        )


class RestartPolicy:
    """Backoff and bounded tries per target (a service word, or ``broker``); no processes here.

    The wait before try ``n`` is the group session timeout times ``2**(n-1)``, capped at
    ``backoff_max_s`` but never below the session timeout: a worker restarted sooner joins while
    its dead predecessor is still a member, which forces a rebalance during recovery (faust-streaming
    #216/#312/#606). ``delay_s`` replaces the backoff (tests only). A target may be restarted
    ``max_restarts`` times within ``window_s``; the next failure in the window gives up.
    """

    def __init__(
        self,
        *,
        session_timeout_s: float,
        max_restarts: int,
        window_s: float,
        backoff_max_s: float,
        delay_s: float | None = None,
    ) -> None:
        self.session_timeout_s = session_timeout_s
        self.max_restarts = max_restarts
        self.window_s = window_s
        self.backoff_max_s = backoff_max_s
        self.delay_s = delay_s
        self._failures: dict[str, list[float]] = {}
        self.counts: dict[str, int] = {}  # restarts so far, per target, over the whole run

    @classmethod
    def from_settings(cls, settings: Any) -> RestartPolicy:
        """The policy of a ``shared.settings.RunSettings``."""
        return cls(
            session_timeout_s=settings.session_timeout_s,
            max_restarts=settings.run_max_restarts,
            window_s=settings.run_restart_window_s,
            backoff_max_s=settings.run_backoff_max_s,
            delay_s=settings.run_restart_delay_s,
        )

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before try ``attempt`` (1-based)."""
        if self.delay_s is not None:
            return self.delay_s
        base = self.session_timeout_s
        return max(base, min(base * 2 ** (attempt - 1), self.backoff_max_s))

    def on_failure(self, target: str, cause: str, now: float) -> Restart:
        """Record a failure of ``target`` at ``now``; the restart to do, or :class:`GiveUp`."""
        recent = [t for t in self._failures.get(target, []) if now - t < self.window_s]
        if len(recent) >= self.max_restarts:
            raise GiveUp(
                f"{target} {cause} after {len(recent)} restart(s) in the last "
                f"{self.window_s:.0f} s (at most {self.max_restarts}); giving up"
            )
        recent.append(now)
        self._failures[target] = recent
        self.counts[target] = self.counts.get(target, 0) + 1
        return Restart(target, cause, len(recent), self.max_restarts, self.backoff(len(recent)))

    def summary(self) -> str:
        """``restarts: dedup 2, broker 1`` (or ``restarts: none``)."""
        done = [f"{target} {n}" for target, n in self.counts.items() if n]
        return "restarts: " + (", ".join(done) if done else "none")
