"""Stopping worker processes: SIGTERM, a bounded wait, SIGKILL of their groups."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import psutil

# Grace after a worker's own stop bound before `newswatch run` SIGKILLs it: the worker's watchdog
# fires first and exits by itself; the SIGKILL is for a worker too stuck even for that.
KILL_GRACE_S = 5.0


class Proc(Protocol):
    """What the supervisor needs of a worker process (subprocess.Popen has it)."""

    pid: int
    returncode: int | None

    def poll(self) -> int | None:
        """Its exit status once it has exited, else None."""

    def terminate(self) -> None:
        """Ask it to stop (SIGTERM)."""


def kill_group(pid: int) -> None:
    """SIGKILL a worker and whatever else is in its process group (its isolated stage child)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def stop_workers(
    procs: Mapping[str, Proc],
    timeout: float,
    *,
    say: Callable[[str], None] | None = None,
    kill: Callable[[Proc], None] = lambda proc: kill_group(proc.pid),
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """SIGTERM each running one (faust commits and leaves its group), SIGKILL the groups of those left after ``timeout``.

    Their own children (a worker's isolated stage) are looked up first and killed if still there at
    the end; processes that had already exited are left alone (their ids may have been reused).
    """
    alive = {s: p for s, p in procs.items() if p.poll() is None}
    family = [child for proc in alive.values() for child in _children(proc.pid)]
    for proc in alive.values():
        try:
            proc.terminate()
        except ProcessLookupError:
            pass
    deadline = clock() + timeout
    waiting = dict(alive)
    while waiting and clock() < deadline:
        waiting = {s: p for s, p in waiting.items() if p.poll() is None}
        if waiting:
            time.sleep(0.1)
    for service, proc in waiting.items():
        if say is not None:
            say(f"{service} did not stop within {timeout:.0f} s; killing it")
        kill(proc)  # not reaped yet, so its process group id is still its own
    for proc in alive.values():
        wait = getattr(proc, "wait", None)
        if wait is not None:
            try:
                wait(10)
            except Exception:  # noqa: BLE001, S110 — a SIGKILLed process is gone; waiting only reaps it
                pass
    for child in family:
        try:
            if child.is_running():  # the same process (psutil checks its start time), still there
                child.kill()
        except Exception:  # noqa: BLE001, S110 — gone meanwhile
            pass


def _children(pid: int) -> list[Any]:
    try:
        return list(psutil.Process(pid).children(recursive=True))
    except Exception:  # noqa: BLE001 — gone already: the process group kill remains
        return []
