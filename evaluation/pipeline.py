"""The pipeline as tests and benchmarks run it: `newswatch run` against a broker of its own, and reading topics and groups with kafka-python.

tests/integration (its harness and kafkautil) and the benchmarks that go through Kafka
(evaluation/stories/bench.py) share these; the pytest fixtures stay in tests/integration/conftest.py.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError

from cli.broker import LocalKafka, free_port
from cli.settings import child_environment
from cli.workers import plan_workers, worker_counts
from shared.metrics import ports_from, run_port_from
from shared.topics import SERVICES

REPO = Path(__file__).resolve().parents[1]
NEWSWATCH = [sys.executable, "-m", "cli.main"]


def free_port_block(n: int) -> int:
    """A base port with ``n`` consecutive free ports after it (for `newswatch run --metrics-base`)."""
    import socket

    for _ in range(50):
        base = free_port()
        try:
            socks = []
            for p in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no block of free ports")


@dataclass
class RunningPipeline:
    """A `newswatch run` process: its broker, group suffix, metrics ports, logs and worker pids.

    ``metrics_ports``: each service's first worker's, by service; ``worker_ports``: every worker's,
    by worker name (``entities-2`` …).
    """

    bootstrap: str
    suffix: str
    metrics_ports: dict[str, int]
    logs: Path
    proc: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)
    worker_ports: dict[str, int] = field(default_factory=dict)

    def group(self, service: str) -> str:
        return f"{service}{self.suffix}"

    def worker_pids(self) -> list[int]:
        # The workers carry the suffix in their environment, not their argv: find them in /proc.
        pids = []
        for proc_dir in Path("/proc").iterdir():
            if not proc_dir.name.isdigit():
                continue
            try:
                environ = (proc_dir / "environ").read_bytes()
            except OSError:
                continue
            if (
                f"NEWS_GROUP_SUFFIX={self.suffix}".encode() in environ.split(b"\0")
                and int(proc_dir.name) != self.proc.pid
            ):
                pids.append(int(proc_dir.name))
        return pids

    def logs_text(self) -> str:
        parts = ["".join(self.output[-40:])]
        for name in self.worker_ports or SERVICES:
            log = self.logs / f"{name}.log"
            if log.exists():
                parts.append(
                    f"--- {name}.log (tail)\n"
                    + "\n".join(log.read_text(errors="replace").splitlines()[-30:])
                )
        return "\n".join(parts)


def launch_run(
    bootstrap: str,
    work: Path,
    *extra: str,
    env: dict[str, str] | None = None,
    workers: Mapping[str, int] | None = None,
) -> RunningPipeline:
    """Start `newswatch run` against ``bootstrap`` with its own group suffix, ports, logs and data.

    ``extra``: more arguments of `newswatch run`; ``env`` adds variables (e.g. the NEWS_RUN_*
    supervision settings); ``workers``: workers per service (``--workers``), 1 each if not given.
    """
    suffix = f"-it{uuid.uuid4().hex[:6]}"
    plan = plan_workers(worker_counts(workers or {}), 0)  # ports from 0: offsets from the base
    base = free_port_block(max(run_port_from(0), *(w.metrics_port for w in plan)) + 1)
    env = child_environment(
        {
            "NEWS_GROUP_SUFFIX": suffix,
            "NEWS_DATA_DIR": str(work / "faust"),
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
    )
    proc = subprocess.Popen(
        [
            *NEWSWATCH,
            "run",
            "--bootstrap",
            bootstrap,
            "--metrics-base",
            str(base),
            "--logs",
            str(work / "logs"),
            "--partitions",
            "2",
            *(f"--workers={service}={n}" for service, n in (workers or {}).items()),
            *extra,
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return RunningPipeline(
        bootstrap,
        suffix,
        ports_from(base),
        work / "logs",
        proc,
        worker_ports={w.name: base + w.metrics_port for w in plan},
    )


@contextmanager
def running_pipeline(
    bootstrap: str, work: Path, *, workers: Mapping[str, int] | None = None
) -> Iterator[RunningPipeline]:
    """`newswatch run` against ``bootstrap``, as a user runs it, until ready; stopped with Ctrl-C (SIGINT).

    ``workers``: workers per service, as ``launch_run`` takes them.
    """
    running = launch_run(bootstrap, work, "--ready-timeout", "240", workers=workers)
    proc = running.proc
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            running.output.append(line)
            if "newswatch: ready" in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + 300
    while not ready.wait(1):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"newswatch run did not become ready:\n{running.logs_text()}")
    try:
        yield running
    finally:
        pids = running.worker_pids()
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(90)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert proc.returncode == 0, running.logs_text()
        left = [p for p in pids if Path(f"/proc/{p}").exists() and "zombie" not in process_state(p)]
        assert not left, f"workers left behind after Ctrl-C: {left}"


@contextmanager
def own_broker(work: Path) -> Iterator[str]:
    """A broker of the test's own (fresh storage, free ports), for tests whose traffic would
    slow down the others that read the shared topics from the beginning."""
    broker = LocalKafka(
        port=free_port(), controller_port=free_port(), data_dir=work / "kafka", fresh=True
    )
    bootstrap = broker.start()
    try:
        yield bootstrap
    finally:
        broker.stop()


def process_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].lower()
    except (OSError, IndexError):
        return "gone"


def produce(bootstrap: str, topic: str, values: list[bytes], key: bytes | None = None) -> None:
    """Send values in order and wait for the broker's acknowledgement."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for value in values:
            producer.send(topic, value=value, key=key).get(timeout=30)
    finally:
        producer.close(timeout=10)


class TopicReader:
    """Reads a whole topic from the beginning (no group), accumulating records as they arrive."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        partitions = self.consumer.partitions_for_topic(topic)
        assert partitions, f"topic {topic} does not exist"
        self.consumer.assign([TopicPartition(topic, p) for p in partitions])
        self.consumer.seek_to_beginning()
        self.records: list[Any] = []

    def poll(self) -> list[Any]:
        """Fetch what has arrived since the last call; returns all records so far."""
        for batch in self.consumer.poll(timeout_ms=500).values():
            self.records.extend(batch)
        return self.records

    def wait_for(
        self, predicate: Callable[[list[Any]], bool], timeout: float, what: str
    ) -> list[Any]:
        """Poll until ``predicate(records)`` holds; fail with what was seen otherwise."""
        deadline = time.monotonic() + timeout
        while not predicate(self.poll()):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.topic}: {what} not seen within {timeout:.0f} s "
                    f"({len(self.records)} records read)"
                )
        return self.records

    def read_to_end(self, timeout: float = 60) -> list[Any]:
        """Poll until every partition is read up to its end offset as of this call; returns all records so far."""
        assignment = list(self.consumer.assignment())
        ends = self.consumer.end_offsets(assignment)
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            if all(self.consumer.position(tp) >= end for tp, end in ends.items()):
                return self.records
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.topic}: not read to its end within {timeout:.0f} s")

    def close(self) -> None:
        self.consumer.close()


def wait_caught_up(bootstrap: str, group: str, topic: str, timeout: float) -> None:
    """Wait until ``group`` has committed offsets at the end of every partition of ``topic``."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        deadline = time.monotonic() + timeout
        while True:
            ends = consumer.end_offsets(partitions)
            try:
                committed = admin.list_group_offsets(group).get(group, {})
            except KafkaError:  # coordinator not there yet
                committed = {}
            lag = {
                tp: end - (committed[tp].offset if tp in committed else 0)
                for tp, end in ends.items()
            }
            if all(v <= 0 for v in lag.values()):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"group {group} still behind on {topic}: {lag}")
            time.sleep(0.5)
    finally:
        admin.close()
        consumer.close()


def service_of(proc: psutil.Process) -> str | None:
    """The service a worker process or its stage child belongs to (children by their parent)."""
    current: psutil.Process | None = proc
    while current is not None:
        cmdline = " ".join(current.cmdline())
        found = next((s for s in SERVICES if f"services.{s}.app" in cmdline), None)
        if found:
            return found
        current = current.parent()
    return None


@dataclass(frozen=True)
class ProcessUsage:
    """One worker or stage-child process of a service: CPU seconds so far and resident bytes."""

    service: str
    pid: int
    role: str  # "worker" (started by newswatch run) or "stage child" (a worker's isolated stage)
    cpu_s: float
    rss: int


def usage_by_process(pipeline: RunningPipeline) -> list[ProcessUsage]:
    """CPU seconds and resident bytes of every worker and stage child of the pipeline."""
    found = []
    for pid in pipeline.worker_pids():
        try:
            proc = psutil.Process(pid)
            service = service_of(proc)
            times, memory = proc.cpu_times(), proc.memory_info()
            role = "worker" if proc.ppid() == pipeline.proc.pid else "stage child"
        except psutil.Error:
            continue
        if service:
            found.append(ProcessUsage(service, pid, role, times.user + times.system, memory.rss))
    return sorted(found, key=lambda u: (SERVICES.index(u.service), u.role != "worker", u.pid))


def usage_by_service(pipeline: RunningPipeline) -> tuple[dict[str, float], dict[str, int]]:
    """CPU seconds (user and system) and resident bytes of each service's processes (worker and stage child)."""
    cpu: dict[str, float] = defaultdict(float)
    rss: dict[str, int] = defaultdict(int)
    for usage in usage_by_process(pipeline):
        cpu[usage.service] += usage.cpu_s
        rss[usage.service] += usage.rss
    return dict(cpu), dict(rss)
