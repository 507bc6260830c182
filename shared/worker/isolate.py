"""A pure stage's handler in a child process with a per-message time budget: consumes and returns what the handler does, dead-letters nothing itself.

Why a process and not a thread: a thread cannot be stopped, so a message that makes a regular
expression or spaCy run for minutes would keep a core busy behind the worker's back. The child is
killed when a message exceeds the budget (the caller dead-letters it as ``timeout``) and a new one
is started for the next message. The worker's event loop only waits on a pipe, so heartbeats and
/metrics keep going whatever the handler does.

The child is ``python -m shared.worker.isolate FD_IN FD_OUT``: it reads the stage and its settings
from the pipe, builds its handler once (the spaCy model, the language detector, the rules), then answers one request at a
time (pickles): ``("one", value)`` → ``("ok", outputs)`` or ``("error", (reason, is_bug, type,
text))``; for a stage that takes batches, ``("batch", values)`` → ``("ok", [each value's
("ok", outputs) or ("error", …)])``, or ``("error", …)`` when the batch as a whole failed.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from shared.errors import Reject, StageError, describe
from shared.stage import BatchHandler, BatchResult, Handled, Stage, as_handled
from shared.worker.lifecycle import die_with_parent

log = logging.getLogger("newswatch")


class StageUnavailable(RuntimeError):
    """The child could not be started or could not build its handler: not about one message."""


class IsolatedHandler:
    """Calls ``stage``'s handler in a child process, one message within ``budget_s`` or one batch within ``batch_budget_s`` at a time."""

    def __init__(
        self,
        stage: Stage,
        settings: Any,
        *,
        budget_s: float,
        start_timeout_s: float,
        batch_budget_s: float | None = None,
    ) -> None:
        self.stage = stage
        self.name = f"{stage.service}'s {stage.step} stage"
        self.settings = settings
        self.budget_s = budget_s
        self.batch_budget_s = budget_s if batch_budget_s is None else batch_budget_s
        self.start_timeout_s = start_timeout_s
        self.proc: subprocess.Popen[bytes] | None = None
        self._to_child: Connection | None = None
        self._from_child: Connection | None = None
        self.restarts = 0  # children killed or lost on a message (replaced before the next one)
        self._ready = False  # the running child has built its handler
        self._starting: asyncio.Lock | None = (
            None  # one start at a time (the start task, a message)
        )

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the child and wait until it has built its handler (raises StageUnavailable)."""
        self._spawn()
        self._wait_ready()

    async def astart(self) -> None:
        """``start`` without blocking the event loop while the child loads its model; idempotent."""
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if self.ready():
                return
            self._spawn()  # fork/exec from the loop's thread: the child's death signal follows it
            await asyncio.to_thread(self._wait_ready)

    def _spawn(self) -> None:
        self.close()
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "shared.worker.isolate", str(in_r), str(out_w)],
                pass_fds=(in_r, out_w),
                preexec_fn=die_with_parent(signal.SIGKILL),  # noqa: PLW1509 — no lock is taken in it
            )
        finally:
            os.close(in_r)
            os.close(out_w)
        self._to_child = Connection(in_w, readable=False)
        self._from_child = Connection(out_r, writable=False)
        self._to_child.send((self.stage, self.settings))

    def _wait_ready(self) -> None:
        assert self._from_child is not None and self.proc is not None
        if not self._from_child.poll(self.start_timeout_s):
            self.close()
            raise StageUnavailable(f"{self.name}: not ready after {self.start_timeout_s:.0f} s")
        try:
            status, detail = self._from_child.recv()
        except EOFError:
            code = self.proc.wait()
            self.close()
            raise StageUnavailable(
                f"{self.name}: the stage process exited with {code} while starting"
                " (its error is in the log above)"
            ) from None
        if status != "ready":
            self.close()
            raise StageUnavailable(f"{self.name}: could not build its handler: {detail}")
        self._ready = True

    def ready(self) -> bool:
        """Whether a child is running and has built its handler."""
        return self._ready and self.proc is not None and self.proc.poll() is None

    def close(self) -> None:
        """Stop the child (it has nothing to flush: killing it loses nothing)."""
        for conn in (self._to_child, self._from_child):
            if conn is not None:
                conn.close()
        self._to_child = self._from_child = None
        self._ready = False
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc = None

    # ------------------------------------------------------------------ messages

    async def __call__(self, value: bytes) -> Handled:
        """The handler's outputs for ``value``; its error as a ``StageError``; ``Reject("timeout")``."""
        if not self.ready():
            await self.astart()
        return await asyncio.to_thread(self.call, value)

    def call(self, value: bytes) -> Handled:
        """Blocking form of ``__call__`` for a child that is already running."""
        handled: Handled = self._ask(("one", value), self.budget_s, "this message")
        return handled

    async def batch(self, values: Sequence[bytes]) -> BatchResult:
        """Each value's outputs or its own error (a ``StageError``), from one call in the child.

        Raises when the batch as a whole failed (``StageError``), or ``Reject("timeout")`` /
        ``Reject("stage_crashed")`` after ``batch_budget_s`` or a dead child (replaced before the
        next request): the worker then handles the values one at a time.
        """
        if not self.ready():
            await self.astart()
        return await asyncio.to_thread(self.call_batch, values)

    def call_batch(self, values: Sequence[bytes]) -> BatchResult:
        """Blocking form of ``batch`` for a child that is already running."""
        answers = self._ask(
            ("batch", list(values)), self.batch_budget_s, f"a batch of {len(values)}"
        )
        return [payload if status == "ok" else StageError(*payload) for status, payload in answers]

    def _ask(self, request: tuple[str, Any], budget_s: float, what: str) -> Any:
        assert self._to_child is not None and self._from_child is not None and self.proc is not None
        started = time.monotonic()
        try:
            self._to_child.send(request)
            ready = self._from_child.poll(budget_s)
        except (BrokenPipeError, EOFError, ConnectionResetError):
            ready = True  # the child is gone: recv below says so
        if not ready:
            self.close()  # killed mid-request: nothing of it is left running
            self.restarts += 1
            raise Reject(
                "timeout",
                f"{what} still running after {budget_s:g} s; the stage process was replaced",
            )
        try:
            status, payload = self._from_child.recv()
        except (EOFError, ConnectionResetError):
            code = self.proc.wait()
            self.close()
            self.restarts += 1
            raise Reject(
                "stage_crashed",
                f"the stage process died with {code} on {what} "
                f"after {time.monotonic() - started:.1f} s",
            ) from None
        if status == "ok":
            return payload
        raise StageError(*payload)


def _serve(conn_in: Connection, conn_out: Connection) -> int:
    stage, settings = conn_in.recv()
    logging.basicConfig(
        level=str(getattr(settings, "log_level", "info")).upper(),
        format="%(asctime)s %(levelname)s %(name)s (stage process): %(message)s",
    )
    try:
        handler = stage.make_handler(settings)
    except Exception as error:
        conn_out.send(("failed", f"{error.__class__.__name__}: {error}"))
        raise
    if stage.batching is not None and not isinstance(handler, BatchHandler):
        conn_out.send(
            ("failed", f"{stage.step} takes batches but its build returned no batch handler")
        )
        return 1
    # What the build loaded (spaCy's pipeline, entities' place table: ~250,000 objects) lives as
    # long as this process: out of the collector's reach, a full collection costs ~0 instead of
    # ~0.2 s, which it would otherwise pay every few hundred messages.
    gc.collect()
    gc.freeze()
    conn_out.send(("ready", None))
    while True:
        try:
            kind, payload = conn_in.recv()
        except EOFError:  # the worker closed the pipe: stop
            return 0
        reply: tuple[str, Any]
        try:
            if kind == "batch":
                reply = (
                    "ok",
                    [
                        ("error", describe(result))
                        if isinstance(result, Exception)
                        else ("ok", as_handled(result))
                        for result in handler.batch(payload)
                    ],
                )
            else:
                reply = ("ok", as_handled(handler(payload)))
        except Exception as error:  # noqa: BLE001 — every per-message failure goes back, classified
            reply = ("error", describe(error))
        conn_out.send(reply)
        values = payload if kind == "batch" else [payload]
        if any(len(value) >= LARGE_MESSAGE_BYTES for value in values):
            del payload, values, reply
            release_memory()


# After a message this large the process hands its freed memory back to the system.
LARGE_MESSAGE_BYTES = 64 * 1024


def release_memory() -> None:
    """Collect garbage and return freed heap to the system (glibc's malloc_trim; elsewhere a no-op).

    A large input leaves the heap at its high-water mark: freed, but kept by the allocator, so
    the process's resident memory would ratchet up with every large message (issue 7).
    """
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def main(argv: list[str]) -> int:
    """Entry point of the child: ``python -m shared.worker.isolate FD_IN FD_OUT``."""
    # The worker handles Ctrl-C and stops us by closing the pipe or killing us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    fd_in, fd_out = int(argv[0]), int(argv[1])
    return _serve(Connection(fd_in, writable=False), Connection(fd_out, readable=False))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
