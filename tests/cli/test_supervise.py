"""`newswatch run`'s supervision without processes: restart policy, the supervisor loop, log filter, stop guards."""

from __future__ import annotations

import itertools
import logging
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from cli.supervise import (
    KILL_GRACE_S,
    GiveUp,
    GroupProgress,
    Interrupts,
    Progress,
    RestartPolicy,
    Supervisor,
)
from cli.supervise.progress import assignments
from shared.worker.lifecycle import EXIT_STOP_TIMEOUT, ConnectionErrorFilter

REPO = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeProc:
    pids = itertools.count(100)

    def __init__(self, service: str) -> None:
        self.service = service
        self.pid = next(self.pids)
        self.returncode: int | None = None
        self.terminated = False
        self.killed = False

    def poll(self) -> int | None:
        return self.returncode

    def terminate(self) -> None:
        self.terminated = True


class FakeBroker:
    def __init__(self) -> None:
        self.alive = True
        self.code: int | None = None
        self.starts = 0
        self.failing_starts = 0

    @property
    def pid(self) -> int | None:
        return 1 if self.alive else None

    @property
    def returncode(self) -> int | None:
        return None if self.alive else self.code

    def die(self, code: int = -9) -> None:
        self.alive, self.code = False, code

    def start(self) -> str:
        self.starts += 1
        if self.failing_starts:
            self.failing_starts -= 1
            raise RuntimeError("the Kafka JVM exited with code 1 while starting\n--- tail …")
        self.alive = True
        return "127.0.0.1:1"

    def stop(self, timeout: float = 30) -> None:
        self.alive = False


def policy(**kw) -> RestartPolicy:
    args = {
        "session_timeout_s": 10.0,
        "max_restarts": 3,
        "window_s": 600.0,
        "backoff_max_s": 60.0,
        **kw,
    }
    return RestartPolicy(**args)


def supervisor(
    clock: Clock,
    *,
    broker: FakeBroker | None = None,
    probe=None,
    names: tuple[str, ...] = ("clean", "dedup"),
    **kw,
):
    lines: list[str] = []
    spawned: list[FakeProc] = []

    def spawn(service: str) -> FakeProc:
        spawned.append(FakeProc(service))
        return spawned[-1]

    def kill(proc: FakeProc) -> None:
        proc.killed = True
        proc.returncode = -9

    sup = Supervisor(
        names,
        spawn,
        kw.pop("policy", policy()),
        say=lines.append,
        broker=broker,
        probe=probe,
        clock=clock,
        kill=kill,
        probe_every_s=0,
        **kw,
    )
    sup.start_workers()
    return sup, lines, spawned


def current(sup: Supervisor, service: str) -> FakeProc:
    proc = sup.workers[service].proc
    assert proc is not None
    return proc  # type: ignore[return-value]


# ---------------------------------------------------------------- policy


def test_backoff_starts_at_the_session_timeout_doubles_and_is_capped_but_never_below_it():
    p = policy(backoff_max_s=35.0)
    assert [p.backoff(n) for n in (1, 2, 3, 4)] == [10.0, 20.0, 35.0, 35.0]
    assert (
        policy(backoff_max_s=1.0).backoff(3) == 10.0
    )  # a cap below the session timeout does not win
    assert all(
        policy(session_timeout_s=s).backoff(n) >= s for s in (6.0, 10.0, 45.0) for n in range(1, 8)
    )


def test_the_test_only_delay_replaces_the_backoff():
    assert policy(delay_s=0.0).backoff(1) == 0.0


def test_restarts_are_numbered_described_with_their_cause_and_bounded():
    p = policy(max_restarts=2)
    first = p.on_failure("dedup", "exited with -9", now=0.0)
    assert first.describe() == "restarting dedup (exited with -9), try 1/2 in 10 s"
    assert (
        p.on_failure("dedup", "exited with 70", now=1.0).describe()
        == "restarting dedup (exited with 70), try 2/2 in 20 s"
    )
    assert p.on_failure("clean", "exited with -9", now=1.0).attempt == 1  # counted per target
    with pytest.raises(
        GiveUp, match=r"dedup exited with 1 after 2 restart\(s\) in the last 600 s \(at most 2\)"
    ):
        p.on_failure("dedup", "exited with 1", now=2.0)
    assert p.summary() == "restarts: dedup 2, clean 1"


def test_failures_older_than_the_window_no_longer_count():
    p = policy(max_restarts=1, window_s=100.0)
    p.on_failure("alerts", "exited with -9", now=0.0)
    assert p.on_failure("alerts", "exited with -9", now=150.0).attempt == 1
    assert p.counts["alerts"] == 2


# ---------------------------------------------------------------- supervisor


def test_a_dead_worker_is_restarted_after_the_backoff_and_the_restart_is_said():
    clock = Clock()
    sup, lines, spawned = supervisor(clock)
    current(sup, "dedup").returncode = -9
    sup.tick()
    assert lines == ["restarting dedup (exited with -9), try 1/3 in 10 s"]
    clock.advance(9.9)
    sup.tick()
    assert len(spawned) == 2  # not yet: the dead member is still in the group
    clock.advance(0.2)
    sup.tick()
    assert len(spawned) == 3 and spawned[-1].service == "dedup"
    assert lines[-1] == f"started dedup again (pid {spawned[-1].pid}); restarts: dedup 1"


def test_a_worker_that_keeps_dying_ends_the_run_after_its_tries():
    clock = Clock()
    sup, lines, _ = supervisor(clock, policy=policy(max_restarts=2))
    with pytest.raises(GiveUp, match="clean exited with 1 after 2 restart"):
        for _ in range(10):
            current(sup, "clean").returncode = 1
            sup.tick()
            clock.advance(60)
            sup.tick()
    assert [line.split(",")[1] for line in lines if line.startswith("restarting")] == [
        " try 1/2 in 10 s",
        " try 2/2 in 20 s",
    ]


def test_a_dead_broker_is_restarted_first_and_workers_dying_meanwhile_are_not_counted():
    clock = Clock()
    broker = FakeBroker()
    sup, lines, spawned = supervisor(clock, broker=broker)
    broker.die(-9)
    sup.tick()
    assert lines == ["restarting broker (exited with -9), try 1/3 in 10 s"]
    current(sup, "dedup").returncode = 70  # its sends failed: the broker's fault, not dedup's
    clock.advance(5)
    sup.tick()
    assert "dedup exited with 70 while the broker is down; not counted" in lines[-1]
    clock.advance(60)  # long past any worker backoff: still not started while the broker is down
    broker.failing_starts = 1
    sup.tick()  # the broker's restart fails once: one more broker try
    assert lines[-1].startswith(
        "restarting broker (did not start: the Kafka JVM exited with code 1"
    )
    assert len(spawned) == 2
    clock.advance(20)
    sup.tick()
    assert broker.alive and broker.starts == 2
    assert lines[-1].startswith("broker back")
    clock.advance(9)
    sup.tick()
    assert len(spawned) == 2  # a session timeout after the broker is back
    clock.advance(2)
    sup.tick()
    assert spawned[-1].service == "dedup"
    assert "dedup" not in sup.policy.counts and sup.policy.counts["broker"] == 2


def test_the_broker_gives_up_after_its_tries():
    clock = Clock()
    broker = FakeBroker()
    sup, _, _ = supervisor(clock, broker=broker, policy=policy(max_restarts=1))
    broker.die(1)
    sup.tick()
    broker.failing_starts = 5
    clock.advance(60)
    with pytest.raises(GiveUp, match="broker did not start: .* after 1 restart"):
        sup.tick()


def test_a_worker_dying_while_another_broker_is_unreachable_is_not_counted():
    clock = Clock()
    reachable = [False]
    sup, lines, spawned = supervisor(clock, reachable=lambda: reachable[0])
    current(sup, "clean").returncode = 70
    sup.tick()
    assert "not counted" in lines[-1]
    clock.advance(10.1)
    reachable[0] = True
    sup.tick()
    assert spawned[-1].service == "clean" and not sup.policy.counts


def test_a_stalled_worker_is_stopped_and_restarted_and_an_idle_or_progressing_one_is_not():
    clock = Clock()
    state = {"clean": Progress(0, (("raw", 0, 5),)), "dedup": Progress(0, (("clean", 0, 5),))}
    sup, lines, spawned = supervisor(
        clock, probe=lambda: dict(state), stall_after_s=60.0, stop_timeout_s=20.0
    )
    for _ in range(30):  # idle for 5 minutes: lag 0 is never a stall
        clock.advance(10)
        sup.tick()
    assert not lines
    for n in range(12):  # clean progresses with lag; dedup has lag and commits nothing
        state["clean"] = Progress(7, (("raw", 0, 10 + n),))
        state["dedup"] = Progress(3, (("clean", 0, 5),))
        clock.advance(5)
        sup.tick()
    stalled = spawned[1]
    assert stalled.terminated and not spawned[0].terminated
    assert lines == ["restarting dedup (stalled: lag 3, no commit for 60 s), try 1/3 in 10 s"]
    clock.advance(20 + KILL_GRACE_S + 1)  # it ignores SIGTERM: killed after the stop bound
    sup.tick()
    assert stalled.killed
    sup.tick()  # its exit is seen; the restart was counted when the stall was found
    clock.advance(10.1)
    sup.tick()
    assert spawned[-1].service == "dedup" and sup.policy.counts == {"dedup": 1}


def test_a_group_waiting_in_a_rebalance_is_not_stalled():
    # A worker restarted inside the session timeout waits for its dead predecessor to expire.
    clock = Clock()
    state = {"dedup": Progress(40, (("clean", 0, 5),), rebalancing=True)}
    sup, lines, _ = supervisor(clock, probe=lambda: dict(state), stall_after_s=20.0)
    for _ in range(6):
        clock.advance(5)
        sup.tick()
    state["dedup"] = Progress(40, (("clean", 0, 5),))  # Stable now, and still nothing committed
    for _ in range(3):
        clock.advance(5)
        sup.tick()
    assert not lines
    for _ in range(2):
        clock.advance(5)
        sup.tick()
    assert lines == ["restarting dedup (stalled: lag 40, no commit for 20 s), try 1/3 in 10 s"]


def test_a_probe_that_fails_gives_no_verdict():
    clock = Clock()

    def probe():
        raise OSError("broker restarting")

    sup, lines, _ = supervisor(clock, probe=probe, stall_after_s=1.0)
    for _ in range(5):
        clock.advance(10)
        sup.tick()
    assert not lines


# ---------------------------------------------------------------- a service's several workers

ENTITIES = ("entities", "entities-2")
OF_SERVICE = {"entities": "entities", "entities-2": "entities"}


def test_each_worker_of_a_service_is_restarted_alone_and_counted_by_its_own_name():
    clock = Clock()
    told: list[tuple[str, str]] = []
    sup, lines, spawned = supervisor(
        clock, names=ENTITIES, on_restart=lambda name, cause: told.append((name, cause))
    )
    assert [p.service for p in spawned] == ["entities", "entities-2"]
    first = current(sup, "entities")
    current(sup, "entities-2").returncode = -9
    sup.tick()
    clock.advance(10.1)
    sup.tick()
    assert lines == [
        "restarting entities-2 (exited with -9), try 1/3 in 10 s",
        f"started entities-2 again (pid {spawned[-1].pid}); restarts: entities-2 1",
    ]
    assert spawned[-1].service == "entities-2" and current(sup, "entities") is first
    assert not first.terminated and told == [("entities-2", "killed")]
    assert sup.policy.counts == {"entities-2": 1}  # its tries are its own


def stall(sup: Supervisor, clock: Clock, state: dict, group: Progress, seconds: int) -> None:
    for _ in range(seconds // 5):
        state["entities"] = group
        clock.advance(5)
        sup.tick()


def test_every_worker_of_a_service_is_judged_by_its_groups_progress():
    clock = Clock()
    state: dict[str, Progress] = {}
    sup, lines, spawned = supervisor(
        clock, names=ENTITIES, probe=lambda: dict(state), group_of=OF_SERVICE, stall_after_s=60.0
    )
    for n in range(20):  # the group commits: neither worker is stalled
        stall(sup, clock, state, Progress(9, (("unique", 0, n), ("unique", 1, 3))), 5)
    assert not lines
    stall(sup, clock, state, Progress(9, (("unique", 0, 50), ("unique", 1, 3))), 65)
    assert all(p.terminated for p in spawned)  # the whole group stands still: both restarted
    assert [line.split(" (")[0] for line in lines] == [
        "restarting entities",
        "restarting entities-2",
    ]


def test_one_stuck_worker_among_committing_siblings_is_caught_by_its_own_partitions():
    clock = Clock()
    state: dict[str, Progress] = {}
    sup, lines, spawned = supervisor(
        clock, names=ENTITIES, probe=lambda: dict(state), group_of=OF_SERVICE, stall_after_s=60.0
    )
    for n in range(14):
        members = {
            "entities": Progress(4, (("unique", 0, n),)),  # commits
            "entities-2": Progress(5, (("unique", 1, 3),)),  # holds partition 1, commits nothing
        }
        state["entities"] = Progress(9, (("unique", 0, n), ("unique", 1, 3)), members=members)
        clock.advance(5)
        sup.tick()
    assert lines == ["restarting entities-2 (stalled: lag 5, no commit for 60 s), try 1/3 in 10 s"]
    assert spawned[1].terminated and not spawned[0].terminated


def test_a_stuck_worker_outside_its_group_is_not_caught_while_the_group_commits():
    # The documented limit (docs/supervision.md): a worker the probe does not find among the
    # members (it left the group, or never joined) is judged by the group, whose commits move:
    # its partitions went to its siblings, so nothing waits on it.
    clock = Clock()
    state: dict[str, Progress] = {}
    sup, lines, _ = supervisor(
        clock, names=ENTITIES, probe=lambda: dict(state), group_of=OF_SERVICE, stall_after_s=20.0
    )
    for n in range(20):
        members = {"entities": Progress(9, (("unique", 0, n), ("unique", 1, n)))}
        state["entities"] = Progress(9, (("unique", 0, n), ("unique", 1, n)), members=members)
        clock.advance(5)
        sup.tick()
    assert not lines


def test_members_partitions_are_read_by_client_id_a_restarted_ones_merged():
    described = {
        "members": [
            {"client_id": "entities", "member_assignment": {"assigned_partitions": [
                {"topic": "unique", "partitions": [0]},
                {"topic": "entities-x-changelog", "partitions": [0, 1]}]}},
            {"client_id": "entities-2", "member_assignment": {"assigned_partitions": [
                {"topic": "unique", "partitions": [1]}]}},
            # its predecessor, until its session expires
            {"client_id": "entities-2", "member_assignment": {"assigned_partitions": [
                {"topic": "unique", "partitions": [2]}]}},
            {"client_id": "other", "member_assignment": b"not decoded"},
        ]
    }  # fmt: skip
    found = assignments(described)
    assert found == {
        "entities": {
            TopicPartition("unique", 0),
            TopicPartition("entities-x-changelog", 0),
            TopicPartition("entities-x-changelog", 1),
        },
        "entities-2": {TopicPartition("unique", 1), TopicPartition("unique", 2)},
    }


class FakeConsumer:
    """End and beginning offsets of a topic ``unique`` with two partitions."""

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {0, 1} if topic == "unique" else set()

    def end_offsets(self, parts):
        return {tp: {0: 10, 1: 20}[tp.partition] for tp in parts}

    def beginning_offsets(self, parts):
        return dict.fromkeys(parts, 0)


def test_a_members_progress_is_its_own_partitions_lag_and_commits():
    probe = GroupProgress("127.0.0.1:1", {"entities": "entities-x"}, {"entities": ["unique"]})
    committed = {TopicPartition("unique", 0): OffsetAndMetadata(7, "", -1)}
    members = {
        "entities": {TopicPartition("unique", 0), TopicPartition("entities-x-changelog", 0)},
        "entities-2": {TopicPartition("unique", 1)},
        "idle": set(),
    }
    group = probe._progress(FakeConsumer(), "entities", "entities-x", committed, False, members)
    assert (group.lag, group.committed) == (3 + 20, (("unique", 0, 7),))
    assert group.members["entities"] == Progress(3, (("unique", 0, 7),))
    assert group.members["entities-2"] == Progress(20, (("unique", 1, -1),))
    assert group.members["idle"] == Progress(0, ())  # more workers than partitions: never stalled


# ---------------------------------------------------------------- workers' log filter


def record(
    msg: str, *args: object, name: str = "aiokafka.conn", level: int = logging.ERROR
) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args or None, None)


def test_connection_errors_pass_once_per_kind_then_once_a_period_with_a_count():
    clock = Clock()
    quiet = ConnectionErrorFilter(every_s=30.0, clock=clock)
    refused = "Unable connect to node with id %s: %s"
    assert quiet.filter(record(refused, 1, "[Errno 111] Connect call failed ('127.0.0.1', 19092)"))
    shown = []
    for _ in range(300):  # 120 lines a second, as measured with the broker gone
        clock.advance(0.1)
        rec = record(refused, 1, "[Errno 111] Connect call failed ('127.0.0.1', 19092)")
        if quiet.filter(rec):
            shown.append(rec.getMessage())
    assert len(shown) == 1
    assert shown[0].endswith("[299 more like this in the last 30 s not logged]")
    # ... and faust's own formatter (mode's, which rewrites the args) still formats a counted line
    from mode.utils.logging import ExtensionFormatter

    assert not quiet.filter(record(refused, 1, "100% refused"))
    clock.advance(30)
    rec = record(refused, 1, "100% refused")
    assert quiet.filter(rec)
    assert (
        ExtensionFormatter(fmt="%(message)s").format(rec)
        == "Unable connect to node with id 1: 100% refused [1 more like this in the last 30 s not logged]"
    )
    # another kind of connection error gets its own first line
    assert quiet.filter(record("Unable to update metadata from [%s]", 1, name="aiokafka.cluster"))


def test_other_records_are_never_limited():
    clock = Clock()
    quiet = ConnectionErrorFilter(every_s=30.0, clock=clock)
    for _ in range(5):
        assert quiet.filter(record("dedup: internal error on %s", "x", name="newswatch"))
        assert quiet.filter(record("Crashed reason=%r", ValueError("x"), name="faust.agents"))
        assert quiet.filter(record("Unable connect to node %s", 1, level=logging.INFO))
        assert quiet.filter(record("Connect call failed", name="myapp"))


# ---------------------------------------------------------------- stop guards (real processes, no Kafka)


def test_the_stop_watchdog_exits_a_hung_process_within_its_timeout():
    code = (
        "from shared.worker.lifecycle import arm_stop_watchdog; import time; "
        "assert arm_stop_watchdog(1.0, 'dedup'); assert not arm_stop_watchdog(1.0); time.sleep(60)"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == EXIT_STOP_TIMEOUT
    assert time.monotonic() - started < 10
    assert "dedup: not stopped within 1 s of the stop request; exiting hard" in done.stderr


def test_stop_kills_a_worker_that_ignores_sigterm_and_its_children_within_the_bound():
    import psutil

    from cli.supervise import stop_workers

    ignores = (
        "import signal, subprocess, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "subprocess.Popen(['sleep', '60'], start_new_session=True); time.sleep(60)"
    )
    stubborn = subprocess.Popen([sys.executable, "-c", ignores], start_new_session=True)
    polite = subprocess.Popen(["sleep", "60"], start_new_session=True)
    deadline = time.monotonic() + 10
    while not psutil.Process(stubborn.pid).children() and time.monotonic() < deadline:
        time.sleep(0.1)
    child = psutil.Process(stubborn.pid).children()[0]
    said: list[str] = []
    started = time.monotonic()
    stop_workers({"entities": stubborn, "clean": polite}, 1.0, say=said.append)
    assert time.monotonic() - started < 5
    assert (stubborn.returncode, polite.returncode) == (-9, -15)
    assert said == ["entities did not stop within 1 s; killing it"]
    time.sleep(0.2)
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE


def test_run_output_survives_a_reader_that_is_gone():
    code = (
        "import sys, time\nfrom cli.supervise import say\ntime.sleep(1)\n"
        "for n in range(2000): say(f'newswatch: line {n}')\n"
        "print('still running', file=sys.stderr)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    proc.stdout.close()  # the `| tee` that died
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "still running" in err and "BrokenPipeError" not in err


def test_an_interrupt_while_deferred_is_raised_when_the_section_ends():
    interrupts = Interrupts()
    started = []
    with pytest.raises(KeyboardInterrupt), interrupts.deferred():
        interrupts.handle(2)
        started.append("worker")  # not cut short: the supervisor records what it started
    assert started == ["worker"]
    with pytest.raises(KeyboardInterrupt):
        interrupts.handle(15)


def test_run_lag_topics_are_the_topics_the_stages_consume():
    from services.stages import STAGES, sources

    consumed: dict[str, set[str]] = {}
    for stage in STAGES:
        consumed.setdefault(stage.service, set()).add(stage.consumes.name)
    assert {svc: {spec.name for spec in specs} for svc, specs in sources().items()} == consumed


def test_each_restart_is_told_with_its_cause():
    clock = Clock()
    told: list[tuple[str, str]] = []
    state = {"dedup": Progress(3, (("clean", 0, 5),))}
    sup, _, _ = supervisor(
        clock,
        probe=lambda: dict(state),
        stall_after_s=20.0,
        on_restart=lambda service, cause: told.append((service, cause)),
    )
    current(sup, "clean").returncode = -9
    sup.tick()
    clock.advance(10.1)
    sup.tick()
    current(sup, "clean").returncode = 70
    for _ in range(5):
        clock.advance(5)
        sup.tick()
    assert told == [("clean", "killed"), ("clean", "exited"), ("dedup", "stalled")]
