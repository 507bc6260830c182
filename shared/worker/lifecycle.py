"""Process lifecycle guards the workers and the runners share: children that die with their parent, rate-limited connection errors, a stop that cannot hang.

Used by ``shared.worker.main`` (the workers), ``shared.worker.isolate`` (stage children) and the
``cli`` package (the broker JVM, ``newswatch run``).
"""

from __future__ import annotations

import ctypes
import logging
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# Exit status of a worker whose watchdog ended a stop that did not finish in time (as timeout(1)).
EXIT_STOP_TIMEOUT = 124


def die_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """Build a preexec_fn that makes the child get ``sig`` when this process dies (Linux only).

    SIGKILL by default, for the broker: the parent is already gone abnormally and nobody would wait for a
    shutdown hook that hangs; Kafka loses nothing when its process dies (written data is in the
    page cache) and recovers the log on the next start.
    """
    if not sys.platform.startswith("linux"):
        return None
    # Loaded before fork: the child should only call into an already loaded library.
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
        # The parent may have died between fork and prctl, which would never signal us.
        if os.getppid() != parent:
            os._exit(1)

    return preexec


_CONNECTION_ERROR = re.compile(
    r"connect call failed|unable (to )?connect|unable to (update|request) metadata|connection (at \S+ )?closed|"
    r"connection refused|nodenotready|node which is not ready|kafkaconnectionerror|nobrokersavailable|"
    r"coordinator ?notavailable|coordinator request failed|marking the coordinator dead|"
    r"requesttimedout|kafkatimeouterror|leadernotavailable|notleader",
    re.IGNORECASE,
)


class ConnectionErrorFilter(logging.Filter):
    """Lets through the first connection error of a kind, then at most one per ``every_s`` with a count.

    A kind is the logger and the message template (digits masked). Only records at WARNING or above
    from ``prefixes`` whose text (or exception) reads as a connection error are limited; everything
    else passes. Attach it to handlers: a logger's filters do not see its children's records.
    """

    def __init__(
        self,
        every_s: float = 30.0,
        prefixes: Sequence[str] = ("aiokafka", "faust", "kafka", "mode"),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.every_s = every_s
        self.prefixes = tuple(prefixes)
        self.clock = clock
        self._kinds: dict[
            tuple[str, str], list[float | int]
        ] = {}  # kind -> [last shown, suppressed]
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether to emit ``record``; an emitted repeat says how many lines were suppressed."""
        if record.levelno < logging.WARNING or not record.name.startswith(self.prefixes):
            return True
        template = str(record.msg)
        text = template if not record.args else _safe_message(record)
        if record.exc_info and record.exc_info[1] is not None:
            text += f" {type(record.exc_info[1]).__name__}: {record.exc_info[1]}"
        if not _CONNECTION_ERROR.search(text):
            return True
        kind = (record.name, re.sub(r"\d+", "#", template)[:200])
        now = self.clock()
        with self._lock:
            state = self._kinds.get(kind)
            if state is None:
                self._kinds[kind] = [now, 0]
                return True
            last, suppressed = state
            if now - last < self.every_s:
                state[1] = int(suppressed) + 1
                return False
            self._kinds[kind] = [now, 0]
        if suppressed:
            record.msg = (
                f"{_safe_message(record)} [{suppressed} more like this in the last "
                f"{now - last:.0f} s not logged]"
            )
            # Empty, not None: faust's formatter (mode's) turns None into (None,) and then fails.
            record.args = ()
        return True


def _safe_message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # noqa: BLE001 — a malformed record is logging's problem, not the filter's
        return str(record.msg)


_watchdog_armed = threading.Event()


def arm_stop_watchdog(
    timeout_s: float, what: str = "worker", exit_code: int = EXIT_STOP_TIMEOUT
) -> bool:
    """Exit the process hard (``os._exit``) if it is still running ``timeout_s`` from now.

    Armed once per process when a stop begins: faust's orderly stop flushes to the broker and, with
    the broker gone, hangs for good while ignoring further SIGTERMs. Returns whether this call
    armed it (False: already armed).
    """
    if _watchdog_armed.is_set():
        return False
    _watchdog_armed.set()

    def expire() -> None:
        time.sleep(timeout_s)
        # os.write, not logging: the thread that hangs may hold logging's lock.
        message = f"{what}: not stopped within {timeout_s:g} s of the stop request; exiting hard\n"
        try:
            os.write(2, message.encode())
        except OSError:
            pass
        os._exit(exit_code)

    threading.Thread(target=expire, name="stop-watchdog", daemon=True).start()
    return True
