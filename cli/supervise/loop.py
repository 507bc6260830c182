"""The supervisor loop of ``newswatch run``: restarts workers and the broker."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cli.supervise.policy import Restart, RestartPolicy
from cli.supervise.progress import Progress
from cli.supervise.stopping import KILL_GRACE_S, Proc, kill_group


class Broker(Protocol):
    """What the supervisor needs of the broker it started (cli.broker.LocalKafka has it)."""

    @property
    def pid(self) -> int | None:
        """The broker's process id, None before it started."""

    @property
    def returncode(self) -> int | None:
        """Its exit status once it has exited, else None."""

    def start(self) -> str:
        """Start it; its bootstrap address."""

    def stop(self, timeout: float = ...) -> None:
        """Stop it within ``timeout`` seconds."""


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

    Workers are keyed by name: the service word, or ``entities-2`` for a service's second worker
    (cli.workers). Each is started, restarted and counted against the policy on its own.

    - A dead worker is restarted after the policy's backoff; past its tries, :class:`GiveUp`.
    - The broker, if ``broker`` is given, is restarted first when it dies (same data dir and ports,
      its own tries). While it is down, workers that exit are not counted as failing: they are
      started again a session timeout after the broker is back.
    - With ``probe``, a worker whose partitions have lag and no new commit for ``stall_after_s``
      (counted from its last commit, its start, the broker's return or the group's last rebalance
      seen, whichever is latest) is stopped (SIGTERM; SIGKILL after ``stop_timeout_s`` + grace)
      and restarted like a dead one. The probe answers per group (``group_of`` maps a worker's
      name to its group's key, by default the name itself) and, within a group, per member it
      recognises by the worker's name; a worker it does not find among the members is judged by
      its whole group's progress.
    """

    names: Sequence[str]
    spawn: Callable[[str], Proc]
    policy: RestartPolicy
    say: Callable[[str], None]
    broker: Broker | None = None
    # Without a broker of its own: whether the broker in use answers (a worker that dies while it
    # does not is not counted either).
    reachable: Callable[[], bool] | None = None
    probe: Callable[[], Mapping[str, Progress]] | None = None
    group_of: Mapping[str, str] = field(default_factory=dict)  # worker name -> its probe key
    stall_after_s: float = 60.0
    stop_timeout_s: float = 20.0
    kill: Callable[[Proc], None] = field(default=lambda proc: kill_group(proc.pid))
    clock: Callable[[], float] = time.monotonic
    probe_every_s: float = 5.0
    # Told of each worker restart: (worker name, cause), cause in shared.metrics.RESTART_CAUSES.
    on_restart: Callable[[str, str], None] = field(default=lambda name, cause: None)
    workers: dict[str, _Worker] = field(default_factory=dict)
    broker_due: float | None = None  # the broker is down and starts again then
    broker_up_at: float = 0.0
    _next_probe: float = 0.0

    def start_workers(self) -> None:
        """Start every worker (at start-up)."""
        for name in self.names:
            self._start(name)

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
                first = (
                    str(error).strip().splitlines()[0]
                    if str(error).strip()
                    else type(error).__name__
                )
                restart = self.policy.on_failure("broker", f"did not start: {first}", self.clock())
                self.say(restart.describe())
                self.broker_due = self.clock() + restart.delay_s
                return
            self.broker_due = None
            self.broker_up_at = self.clock()
            self.say(
                f"broker back (pid {self.broker.pid}); workers that died meanwhile start in "
                f"{self.policy.backoff(1):.0f} s"
            )
            for worker in self.workers.values():
                if worker.proc is None and worker.due is None:
                    worker.due = self.broker_up_at + self.policy.backoff(1)

    # -- workers

    def _check_workers(self) -> None:
        for name, worker in self.workers.items():
            now = self.clock()
            proc = worker.proc
            if proc is None:
                if worker.due is not None and now >= worker.due and not self.broker_down:
                    self._start(name)
                continue
            code = proc.poll()
            if code is None:
                if (
                    worker.stopping_since is not None
                    and now - worker.stopping_since > self.stop_timeout_s + KILL_GRACE_S
                ):
                    self.say(
                        f"{name} did not stop within {self.stop_timeout_s + KILL_GRACE_S:.0f} s; killing it"
                    )
                    self.kill(proc)
                    worker.stopping_since = now  # once per grace period at most
                continue
            self._exited(name, worker, code, now)

    def _exited(self, name: str, worker: _Worker, code: int, now: float) -> None:
        worker.proc = None
        worker.stopping_since = None
        if worker.restart is not None:  # stopped for a stall: already decided and counted
            worker.due = now + worker.restart.delay_s
            worker.restart = None
            return
        if self.broker_down or not self._broker_ok():
            self.say(
                f"{name} {exit_cause(code)} while the broker is down; not counted, it starts "
                "again once the broker is back"
            )
            # Our broker: scheduled when it is back. Another broker: tried again after a backoff.
            worker.due = None if self.broker_down else now + self.policy.backoff(1)
            worker.counted = False
            self.on_restart(name, "broker_down")
            return
        restart = self.policy.on_failure(name, exit_cause(code), now)
        self.on_restart(name, "killed" if code < 0 else "exited")
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

    def _start(self, name: str) -> None:
        worker = self.workers.setdefault(name, _Worker())
        proc = self.spawn(name)
        now = self.clock()
        worker.proc, worker.started_at, worker.due = proc, now, None
        worker.last_progress = now
        if name in self.policy.counts or not worker.counted:
            self.say(f"started {name} again (pid {proc.pid}); {self.policy.summary()}")

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
        for name, worker in self.workers.items():
            group = progress.get(self.group_of.get(name, name))
            if group is None or worker.proc is None or worker.stopping_since is not None:
                continue
            # Its own partitions when the probe knows it among the members: one stuck worker is
            # caught while its siblings commit.
            state = group.members.get(name, group)
            if state.committed != worker.last_commit or state.lag <= 0 or state.rebalancing:
                # A commit is progress; an idle worker is not stalled; nor is one whose group is
                # rebalancing (e.g. waiting for a killed predecessor's session to expire).
                worker.last_commit = state.committed
                worker.last_progress = now
                continue
            since = max(worker.last_progress, worker.started_at, self.broker_up_at)
            if now - since >= self.stall_after_s:
                cause = f"stalled: lag {state.lag}, no commit for {now - since:.0f} s"
                worker.restart = self.policy.on_failure(name, cause, now)
                self.on_restart(name, "stalled")
                self.say(worker.restart.describe())
                worker.stopping_since = now
                worker.proc.terminate()
