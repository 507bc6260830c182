"""Supervision for ``newswatch run``: restart policy, stall detection, bounded stop; consumes consumer-group offsets, produces nothing.

The policy (:class:`RestartPolicy`) and the loop (:class:`Supervisor`) take their processes, broker
and offset probe as arguments, so they are tested without any (tests/shared/test_supervise.py).
The workers' side is here too: :class:`ConnectionErrorFilter` (rate-limited connection errors) and
:func:`arm_stop_watchdog` (a stop that cannot hang), both used by ``shared.kafka.run_worker``.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

# Grace after a worker's own stop bound before `newswatch run` SIGKILLs it: the worker's watchdog
# fires first and exits by itself; the SIGKILL is for a worker too stuck even for that.
KILL_GRACE_S = 5.0


class GiveUp(RuntimeError):
    """A worker or the broker failed more often than the policy allows: stop everything, exit 1."""


# ---------------------------------------------------------------- policy


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
        return (f"restarting {self.target} ({self.cause}), try {self.attempt}/{self.limit} "
                f"in {self.delay_s:.0f} s")


class RestartPolicy:
    """Backoff and bounded tries per target (a service word, or ``broker``); no processes here.

    The wait before try ``n`` is the group session timeout times ``2**(n-1)``, capped at
    ``backoff_max_s`` but never below the session timeout: a worker restarted sooner joins while
    its dead predecessor is still a member, which forces a rebalance during recovery (faust-streaming
    #216/#312/#606). ``delay_s`` replaces the backoff (tests only). A target may be restarted
    ``max_restarts`` times within ``window_s``; the next failure in the window gives up.
    """

    def __init__(self, *, session_timeout_s: float, max_restarts: int, window_s: float,
                 backoff_max_s: float, delay_s: float | None = None) -> None:
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
        return cls(session_timeout_s=settings.session_timeout_s, max_restarts=settings.run_max_restarts,
                   window_s=settings.run_restart_window_s, backoff_max_s=settings.run_backoff_max_s,
                   delay_s=settings.run_restart_delay_s)

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
            raise GiveUp(f"{target} {cause} after {len(recent)} restart(s) in the last "
                         f"{self.window_s:.0f} s (at most {self.max_restarts}); giving up")
        recent.append(now)
        self._failures[target] = recent
        self.counts[target] = self.counts.get(target, 0) + 1
        return Restart(target, cause, len(recent), self.max_restarts, self.backoff(len(recent)))

    def summary(self) -> str:
        """``restarts: dedup 2, broker 1`` (or ``restarts: none``)."""
        done = [f"{target} {n}" for target, n in self.counts.items() if n]
        return "restarts: " + (", ".join(done) if done else "none")


# ---------------------------------------------------------------- what the supervisor drives


class Proc(Protocol):
    """What the supervisor needs of a worker process (subprocess.Popen has it)."""

    pid: int
    returncode: int | None

    def poll(self) -> int | None: ...
    def terminate(self) -> None: ...


class Broker(Protocol):
    """What the supervisor needs of the broker it started (cli.broker.LocalKafka has it)."""

    @property
    def pid(self) -> int | None: ...
    @property
    def returncode(self) -> int | None: ...
    def start(self) -> str: ...
    def stop(self, timeout: float = ...) -> None: ...


@dataclass(frozen=True)
class Progress:
    """One consumer group's state: records not yet committed, its committed offsets, and whether it is rebalancing."""

    lag: int
    committed: tuple[tuple[str, int, int], ...]  # (topic, partition, offset), sorted
    rebalancing: bool = False  # PreparingRebalance/CompletingRebalance: waiting, not stalled


@dataclass
class _Worker:
    proc: Proc | None = None
    started_at: float = 0.0
    due: float | None = None  # when to start it again (None: not scheduled)
    counted: bool = True  # whether its last exit counted against the policy
    stopping_since: float | None = None  # SIGTERM sent for a stall restart
    restart: Restart | None = None  # decided before it exited (a stall)
    last_commit: tuple[tuple[str, int, int], ...] | None = None
    last_progress: float = 0.0


def exit_cause(returncode: int | None) -> str:
    """``exited with -9`` (killed by a signal) or ``exited with 70``."""
    return f"exited with {returncode}"


@dataclass
class Supervisor:
    """Keeps the workers (and the broker it started) running: ``tick()`` every half second.

    - A dead worker is restarted after the policy's backoff; past its tries, :class:`GiveUp`.
    - The broker, if ``broker`` is given, is restarted first when it dies (same data dir and ports,
      its own tries). While it is down, workers that exit are not counted as failing: they are
      started again a session timeout after the broker is back.
    - With ``probe``, a worker whose group has lag and no new commit for ``stall_after_s`` (counted
      from its last commit, its start, the broker's return or the group's last rebalance seen,
      whichever is latest) is stopped (SIGTERM; SIGKILL after ``stop_timeout_s`` + grace) and
      restarted like a dead one.
    """

    services: Sequence[str]
    spawn: Callable[[str], Proc]
    policy: RestartPolicy
    say: Callable[[str], None]
    broker: Broker | None = None
    # Without a broker of its own: whether the broker in use answers (a worker that dies while it
    # does not is not counted either).
    reachable: Callable[[], bool] | None = None
    probe: Callable[[], Mapping[str, Progress]] | None = None
    stall_after_s: float = 60.0
    stop_timeout_s: float = 20.0
    kill: Callable[[Proc], None] = field(default=lambda proc: kill_group(proc.pid))
    clock: Callable[[], float] = time.monotonic
    probe_every_s: float = 5.0
    workers: dict[str, _Worker] = field(default_factory=dict)
    broker_due: float | None = None  # the broker is down and starts again then
    broker_up_at: float = 0.0
    _next_probe: float = 0.0

    def start_workers(self) -> None:
        """Start every worker (at start-up)."""
        for service in self.services:
            self._start(service)

    @property
    def broker_down(self) -> bool:
        """Whether the broker this run started is down (waiting for, or in, a restart)."""
        return self.broker_due is not None

    def tick(self) -> None:
        """One pass: broker first, then dead workers, then stalls. Raises GiveUp."""
        self._check_broker()
        self._check_workers()
        self._check_stalls()

    # -- broker

    def _check_broker(self) -> None:
        if self.broker is None:
            return
        now = self.clock()
        if self.broker_due is None and self.broker.pid is None:
            restart = self.policy.on_failure("broker", exit_cause(self.broker.returncode), now)
            self.say(restart.describe())
            self.broker_due = now + restart.delay_s
            return
        if self.broker_due is not None and now >= self.broker_due:
            try:
                self.broker.start()
            except Exception as error:  # noqa: BLE001 — BrokerError or OSError: one more failed try
                first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                restart = self.policy.on_failure("broker", f"did not start: {first}", self.clock())
                self.say(restart.describe())
                self.broker_due = self.clock() + restart.delay_s
                return
            self.broker_due = None
            self.broker_up_at = self.clock()
            self.say(f"broker back (pid {self.broker.pid}); workers that died meanwhile start in "
                     f"{self.policy.backoff(1):.0f} s")
            for worker in self.workers.values():
                if worker.proc is None and worker.due is None:
                    worker.due = self.broker_up_at + self.policy.backoff(1)

    # -- workers

    def _check_workers(self) -> None:
        for service, worker in self.workers.items():
            now = self.clock()
            proc = worker.proc
            if proc is None:
                if worker.due is not None and now >= worker.due and not self.broker_down:
                    self._start(service)
                continue
            code = proc.poll()
            if code is None:
                if worker.stopping_since is not None and now - worker.stopping_since > self.stop_timeout_s + KILL_GRACE_S:
                    self.say(f"{service} did not stop within {self.stop_timeout_s + KILL_GRACE_S:.0f} s; killing it")
                    self.kill(proc)
                    worker.stopping_since = now  # once per grace period at most
                continue
            self._exited(service, worker, code, now)

    def _exited(self, service: str, worker: _Worker, code: int, now: float) -> None:
        worker.proc = None
        worker.stopping_since = None
        if worker.restart is not None:  # stopped for a stall: already decided and counted
            worker.due = now + worker.restart.delay_s
            worker.restart = None
            return
        if self.broker_down or not self._broker_ok():
            self.say(f"{service} {exit_cause(code)} while the broker is down; not counted, it starts "
                     "again once the broker is back")
            # Our broker: scheduled when it is back. Another broker: tried again after a backoff.
            worker.due = None if self.broker_down else now + self.policy.backoff(1)
            worker.counted = False
            return
        restart = self.policy.on_failure(service, exit_cause(code), now)
        self.say(restart.describe())
        worker.due = now + restart.delay_s
        worker.counted = True

    def _broker_ok(self) -> bool:
        if self.broker is not None:  # ours: is its JVM alive? (checked first in tick())
            return self.broker.pid is not None
        if self.reachable is None:
            return True
        try:
            return self.reachable()
        except Exception:  # noqa: BLE001 — a probe that fails says the broker does not answer
            return False

    def _start(self, service: str) -> None:
        worker = self.workers.setdefault(service, _Worker())
        proc = self.spawn(service)
        now = self.clock()
        worker.proc, worker.started_at, worker.due = proc, now, None
        worker.last_progress = now
        if service in self.policy.counts or not worker.counted:
            self.say(f"started {service} again (pid {proc.pid}); {self.policy.summary()}")

    # -- stalls

    def _check_stalls(self) -> None:
        if self.probe is None or self.broker_down:
            return
        now = self.clock()
        if now < self._next_probe:
            return
        self._next_probe = now + self.probe_every_s
        try:
            progress = self.probe()
        except Exception:  # noqa: BLE001 — the broker may be restarting: no verdict this round
            return
        now = self.clock()
        for service, state in progress.items():
            worker = self.workers.get(service)
            if worker is None or worker.proc is None or worker.stopping_since is not None:
                continue
            if state.committed != worker.last_commit or state.lag <= 0 or state.rebalancing:
                # A commit is progress; an idle worker is not stalled; nor is one whose group is
                # rebalancing (e.g. waiting for a killed predecessor's session to expire).
                worker.last_commit = state.committed
                worker.last_progress = now
                continue
            since = max(worker.last_progress, worker.started_at, self.broker_up_at)
            if now - since >= self.stall_after_s:
                cause = f"stalled: lag {state.lag}, no commit for {now - since:.0f} s"
                worker.restart = self.policy.on_failure(service, cause, now)
                self.say(worker.restart.describe())
                worker.stopping_since = now
                worker.proc.terminate()


def kill_group(pid: int) -> None:
    """SIGKILL a worker and whatever else is in its process group (its isolated stage child)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def stop_workers(procs: Mapping[str, Proc], timeout: float, *, say: Callable[[str], None] | None = None,
                 kill: Callable[[Proc], None] = lambda proc: kill_group(proc.pid),
                 clock: Callable[[], float] = time.monotonic) -> None:
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
        import psutil

        return list(psutil.Process(pid).children(recursive=True))
    except Exception:  # noqa: BLE001 — gone already, or no psutil: the process group kill remains
        return []


# ---------------------------------------------------------------- group progress (kafka-python)


_REBALANCING = frozenset({"PreparingRebalance", "CompletingRebalance"})


class GroupProgress:
    """Reads each service's consumer-group lag and committed offsets (kafka-python admin and consumer)."""

    def __init__(self, bootstrap: str, groups: Mapping[str, str], sources: Mapping[str, Sequence[str]],
                 client_kwargs: Mapping[str, Any] | None = None) -> None:
        self.bootstrap = bootstrap
        self.groups = dict(groups)  # service -> group id
        self.sources = dict(sources)  # service -> the topics it consumes
        self.client_kwargs = dict(client_kwargs or {})
        self._admin: Any = None
        self._consumer: Any = None

    def _clients(self) -> tuple[Any, Any]:
        from kafka import KafkaConsumer
        from kafka.admin import KafkaAdminClient

        if self._admin is None:
            common = {"bootstrap_servers": self.bootstrap.split(","), "request_timeout_ms": 5000,
                      **self.client_kwargs}
            self._admin = KafkaAdminClient(client_id="newswatch-run-supervisor", **common)
            self._consumer = KafkaConsumer(client_id="newswatch-run-supervisor", enable_auto_commit=False,
                                           **common)
        return self._admin, self._consumer

    def __call__(self) -> dict[str, Progress]:
        """Lag and committed offsets of every group; raises (and reconnects next time) on errors."""
        from kafka import TopicPartition

        try:
            admin, consumer = self._clients()
            described = admin.describe_groups(list(self.groups.values()))
            result = {}
            for service, group in self.groups.items():
                rebalancing = described.get(group, {}).get("group_state") in _REBALANCING
                committed = admin.list_group_offsets(group).get(group, {})
                parts = {tp for tp in committed if not tp.topic.startswith(group)}  # not faust's own
                for topic in self.sources.get(service, ()):
                    parts |= {TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()}
                if not parts:
                    result[service] = Progress(0, (), rebalancing)
                    continue
                ends = consumer.end_offsets(list(parts))
                starts = consumer.beginning_offsets([tp for tp in parts if tp not in committed])
                lag = 0
                for tp, end in ends.items():
                    done = committed[tp].offset if tp in committed and committed[tp].offset >= 0 else starts.get(tp, 0)
                    lag += max(0, end - done)
                signature = tuple(sorted((tp.topic, tp.partition, om.offset) for tp, om in committed.items()))
                result[service] = Progress(lag, signature, rebalancing)
            return result
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        """Close the clients (they are opened again on the next call)."""
        for client in (self._admin, self._consumer):
            if client is not None:
                try:
                    client.close()
                except Exception:  # noqa: BLE001, S110 — closing a client of a dead broker
                    pass
        self._admin = self._consumer = None


# ---------------------------------------------------------------- run's own output and signals


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
