"""The terminal side of ``newswatch run``: its output lines and signals."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager


def say(message: str) -> None:
    """Print one line of `newswatch run` output; a closed stdout (``| tee`` gone) never stops the run.

    On the first failed write, stdout (and stderr, if it is the same pipe) is pointed at /dev/null,
    so that later prints and the interpreter's final flush cannot fail either.
    """
    try:
        print(message, flush=True)
    except (BrokenPipeError, OSError, ValueError):
        silence_stdout()


def silence_stdout() -> None:
    """Point file descriptors 1 (and 2, when it is the same broken pipe) at /dev/null."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in (1, 2):
            try:
                same = fd == 1 or os.path.sameopenfile(1, 2)
            except OSError:
                same = True
            if same:
                os.dup2(devnull, fd)
    finally:
        os.close(devnull)


class Interrupts:
    """SIGINT, SIGTERM and SIGHUP raise KeyboardInterrupt in the main thread, except while deferred.

    Deferred: while a child process is being started, so that an interrupt cannot leave a process
    running that the supervisor does not know about; the interrupt is raised when the section ends.
    """

    def __init__(self) -> None:
        self.requested: int | None = None
        self._deferred = 0

    def install(self) -> None:
        """Handle the three signals (set explicitly: a shell's background job starts with SIGINT ignored)."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self.handle)

    def handle(self, signum: int, _frame: object = None) -> None:
        """The signal handler."""
        self.requested = signum
        if not self._deferred:
            raise KeyboardInterrupt

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold interrupts until the end of the block."""
        self._deferred += 1
        try:
            yield
        finally:
            self._deferred -= 1
        if not self._deferred and self.requested is not None:
            raise KeyboardInterrupt

    @staticmethod
    def ignore() -> None:
        """Ignore the three signals (the stop is bounded and must not be cut short)."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
