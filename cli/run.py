"""``newswatch run``: the local broker (unless one is reachable) and the workers, supervised until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError

from cli.broker import LocalKafka
from cli.connect import bootstrap_of, partitions_of
from cli.prometheus import LocalPrometheus, PrometheusFailed, load_rules
from cli.settings import child_environment
from cli.supervise import (
    KILL_GRACE_S,
    GiveUp,
    GroupProgress,
    Interrupts,
    RestartPolicy,
    Supervisor,
    say,
)
from cli.supervise import stop_workers as stop_supervised
from cli.workers import Worker, idle_workers, plan_workers, worker_counts
from services.stages import sources
from shared.admin import broker_reachable, ensure_topics
from shared.metrics import restart_counter, run_port_from, serve_metrics
from shared.security import kafka_python_kwargs
from shared.settings import DEFAULT_BOOTSTRAP, RunSettings
from shared.topics import ALERTS, RAW_ARTICLES, SERVICES, TOPICS
from shared.worker.lifecycle import die_with_parent

REPO = Path(__file__).resolve().parent.parent


def cmd_run(args: argparse.Namespace) -> int:
    """Broker (unless one is reachable) plus the workers, supervised until Ctrl-C (cli.supervise).

    One worker per service, or as many as ``--workers``/NEWS_RUN_WORKERS ask (cli.workers), each
    supervised on its own. A dead or stalled worker, or the dead local broker, is restarted within
    the policy's tries; past them everything stops and the exit status is 1. Ctrl-C, SIGTERM or
    SIGHUP stop the workers (bounded), then the broker; a closed stdout never cuts that short.
    """
    _INTERRUPTS.install()
    try:
        settings = RunSettings()
    except ValidationError as error:
        raise SystemExit(f"newswatch: {settings_error(error)}") from None
    counts = worker_counts(settings.run_workers, getattr(args, "workers", None) or ())
    plan = plan_workers(counts, args.metrics_base)
    by_name = {worker.name: worker for worker in plan}
    # Warned, not refused: an idle member is a standby Kafka hands a partition to when a sibling
    # leaves, and a topic that already exists keeps its own partition count, maybe a larger one.
    for line in idle_workers(counts, partitions_of(args)):
        say(f"newswatch: {line}")
    security: dict[str, Any] = kafka_python_kwargs(settings)
    # kafka-python's own warnings (a refused connection while the broker restarts) would flood
    # this output; the supervisor says what happened instead.
    logging.getLogger("kafka").addHandler(logging.NullHandler())
    logging.getLogger("kafka").propagate = False
    bootstrap = bootstrap_of(args)
    broker: LocalKafka | None = None
    policy = RestartPolicy.from_settings(settings)
    spawned: dict[str, subprocess.Popen[bytes]] = {}  # every worker process ever started
    probe = None
    prometheus: LocalPrometheus | None = None
    code = 0
    try:
        if broker_reachable(bootstrap, security=security):
            say(f"newswatch: using the Kafka broker at {bootstrap}")
        else:
            local = f"127.0.0.1:{args.broker_port}"
            if bootstrap not in (DEFAULT_BOOTSTRAP, local):
                say(f"newswatch: {bootstrap} is not reachable; starting the local broker instead")
            say(
                "newswatch: starting the local Kafka broker (first run fetches its jars with Maven) …"
            )
            broker = LocalKafka(
                port=args.broker_port,
                data_dir=Path(args.broker_data_dir) if args.broker_data_dir else None,
            )
            bootstrap = broker.start()
            security = {}  # the local broker listens in PLAINTEXT
            say(
                f"newswatch: Kafka ready at {bootstrap} (pid {broker.pid}, controller port "
                f"{broker.controller_port}; log: {broker.log_path})"
            )
        ensure_topics(bootstrap, TOPICS, partitions_of(args), security=security)
        logs = Path(args.logs)
        logs.mkdir(parents=True, exist_ok=True)
        groups = {svc: f"{svc}{settings.group_suffix}" for svc in SERVICES}

        def spawn(name: str) -> subprocess.Popen[bytes]:
            worker = by_name[name]
            with _INTERRUPTS.deferred():  # recorded before a Ctrl-C can interrupt
                proc = start_worker(
                    worker.service,
                    bootstrap,
                    logs / f"{name}.log",
                    partitions_of(args),
                    # Its name gives it its own faust data dir and Kafka client id (the stall probe
                    # knows it among its group's members by that).
                    env={"NEWS_METRICS_PORT": str(worker.metrics_port), "NEWS_WORKER_NAME": name},
                )
                spawned[f"{name} (pid {proc.pid})"] = proc
            return proc

        width = max(9, *(len(name) for name in by_name))
        run_registry = CollectorRegistry()
        restarts = restart_counter(run_registry)
        run_port = serve_run_metrics(run_registry, run_port_from(args.metrics_base), width)
        probe = GroupProgress(
            bootstrap,
            groups,
            {svc: [t.name for t in specs] for svc, specs in sources().items()},
            security,
        )
        supervisor = Supervisor(
            list(by_name),
            spawn,
            policy,
            say=lambda line: say(f"newswatch: {line}"),
            broker=broker,
            reachable=None
            if broker is not None
            else lambda: broker_reachable(bootstrap, 2.0, security=security),
            probe=probe,
            group_of={worker.name: worker.service for worker in plan},
            stall_after_s=settings.run_stall_after_s,
            stop_timeout_s=settings.run_stop_timeout_s,
            on_restart=count_restarts(restarts, plan),
        )
        supervisor.start_workers()
        say(f"newswatch: workers starting; logs in {logs}/<worker>.log")
        for worker in plan:
            proc = supervisor.workers[worker.name].proc
            say(
                f"  {worker.name:{width}s} metrics http://127.0.0.1:{worker.metrics_port}/metrics"
                f" (pid {proc.pid if proc else '?'})"
            )
        prometheus = start_prometheus(plan, run_port, logs / "prometheus.log")
        wait_ready(
            bootstrap,
            list(groups.values()),
            {s: proc for s, proc in spawned.items() if proc.poll() is None},
            timeout=args.ready_timeout,
            security=security,
            members={groups[service]: n for service, n in counts.items()},
        )
        say(
            f"newswatch: ready. Submit with `newswatch submit seeds/`, read alerts with `newswatch alerts --follow`."
            f" Input topic {RAW_ARTICLES.name}, alerts on {ALERTS.name}. Ctrl-C stops everything."
        )
        while True:
            supervisor.tick()
            time.sleep(0.5)
    except GiveUp as error:
        say(f"newswatch: {error}; stopping everything")
        code = 1
    except KeyboardInterrupt:
        pass
    finally:
        _INTERRUPTS.ignore()  # a second Ctrl-C must not cut the bounded stop short
        say("newswatch: stopping …")
        if probe is not None:
            probe.close()
        if prometheus is not None:
            prometheus.stop()
        # Workers first (they commit and leave their groups while the broker is still there).
        stop_supervised(
            spawned,
            settings.run_stop_timeout_s + KILL_GRACE_S,
            say=lambda line: say(f"newswatch: {line}"),
        )
        if broker is not None:
            broker.stop(settings.run_stop_timeout_s)
        say(f"newswatch: stopped; {policy.summary()}")
    return code


def settings_error(error: ValidationError) -> str:
    """A settings class's refusal in one line, by variable: ``NEWS_RUN_WORKERS: 'x=1': no service 'x' …``."""
    lines = []
    for problem in error.errors():
        field = "_".join(str(part) for part in problem["loc"])
        where = f"NEWS_{field.upper()}: " if field else ""  # a whole-model check names its own
        lines.append(where + problem["msg"].removeprefix("Value error, "))
    return "; ".join(lines)


def serve_run_metrics(registry: CollectorRegistry, port: int, width: int = 9) -> int | None:
    """Serve the supervisor's /metrics (news_worker_restarts_total) on ``port``; None if taken."""
    try:
        bound = serve_metrics("127.0.0.1", port, registry)
    except OSError as error:
        say(f"newswatch: supervisor metrics not served: port {port}: {error.strerror}")
        return None
    say(f"  {'run':{width}s} metrics http://127.0.0.1:{bound}/metrics (restarts)")
    return bound


def count_restarts(counter: Counter, workers: Iterable[Worker]) -> Callable[[str, str], None]:
    """The supervisor's ``on_restart``: ``news_worker_restarts_total{service, cause}`` += 1.

    The label is the service word whichever of its workers restarted: the metric, its rule and the
    dashboards count a service's restarts, and its labels stay bounded.
    """
    services = {worker.name: worker.service for worker in workers}

    def count(name: str, cause: str) -> None:
        counter.labels(services[name], cause).inc()

    return count


def prometheus_targets(
    workers: Iterable[Worker], run_port: int | None
) -> tuple[dict[str, str], dict[str, str]]:
    """The local Prometheus's targets by worker name (and ``run``), and each one's job.

    A service's workers are one job named by the service word, as in compose: the rules' ``up``
    and the dashboards see a scaled service as one. The series keep their own ``service`` label.
    """
    targets = {worker.name: f"127.0.0.1:{worker.metrics_port}" for worker in workers}
    jobs = {worker.name: worker.service for worker in workers}
    if run_port is not None:
        targets["run"] = f"127.0.0.1:{run_port}"
    return targets, jobs


def start_prometheus(
    workers: Iterable[Worker], run_port: int | None, log_path: Path
) -> LocalPrometheus | None:
    """The installed Prometheus scraping the workers and the supervisor, with the project's rules.

    Without it installed, or if it does not start, the run goes on and says so in one line.
    """
    binary = LocalPrometheus.installed()
    if binary is None:
        say("newswatch: Prometheus not installed (no `prometheus` on PATH); running without it")
        return None
    targets, jobs = prometheus_targets(workers, run_port)
    prometheus = LocalPrometheus(binary, targets, load_rules(), log_path=log_path, jobs=jobs)
    try:
        url = prometheus.start()
    except (PrometheusFailed, OSError) as error:
        say(f"newswatch: Prometheus did not start ({error}); running without it")
        return None
    say(f"newswatch: Prometheus at {url} (alerts: {url}/alerts; log: {log_path})")
    return prometheus


# SIGINT/SIGTERM/SIGHUP → KeyboardInterrupt in `newswatch run`, held while a worker is being started.
_INTERRUPTS = Interrupts()


def _interrupt(signum: int, frame: object = None) -> None:
    _INTERRUPTS.handle(signum, frame)


def wait_ready(
    bootstrap: str,
    groups: list[str],
    workers: dict[str, subprocess.Popen[bytes]],
    timeout: float = 180.0,
    security: dict[str, Any] | None = None,
    members: Mapping[str, int] | None = None,
) -> None:
    """Wait until every worker's consumer group is Stable with members (partitions assigned).

    ``members``: how many members a group needs (its workers; 1 if not given), so that a scaled
    service is ready once all its workers have joined, not at the first.
    """
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap.split(","), client_id="newswatch-run", **(security or {})
    )
    deadline = time.monotonic() + timeout
    try:
        pending = set(groups)
        while pending:
            for service, proc in workers.items():
                if proc.poll() is not None:
                    raise SystemExit(
                        f"newswatch: worker {service} exited with {proc.returncode} while starting"
                    )
            try:
                described = admin.describe_groups(sorted(pending))
            except KafkaError:  # the group coordinator is not up until __consumer_offsets exists
                described = {}
            for group, info in described.items():
                joined = len(info.get("members") or ())
                if info.get("group_state") == "Stable" and joined >= (members or {}).get(group, 1):
                    pending.discard(group)
            if pending and time.monotonic() > deadline:
                raise SystemExit(
                    f"newswatch: workers not ready after {timeout:.0f} s: {sorted(pending)}"
                )
            time.sleep(0.5)
    finally:
        admin.close()


def start_worker(
    service: str, bootstrap: str, log_file: Path, partitions: int, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start one faust worker process (``python -m services.<svc>.app worker``), in its own process group."""
    environ = child_environment(
        {**(env or {}), "NEWS_KAFKA_BOOTSTRAP": bootstrap, "NEWS_TOPIC_PARTITIONS": str(partitions)}
    )
    with open(log_file, "ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                f"services.{service}.app",
                "worker",
                "--without-web",
                "-l",
                "info",
            ],
            cwd=REPO,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own session: Ctrl-C reaches only newswatch, which stops the workers in order; and
            # a SIGKILL of the group takes the worker's isolated stage child too.
            start_new_session=True,
            # SIGTERM when newswatch dies: faust then commits and leaves its group, or its stop
            # watchdog (shared.worker.main.run_worker) ends it within the stop timeout.
            preexec_fn=die_with_parent(signal.SIGTERM),  # noqa: PLW1509 — started before any thread
        )


def stop_workers(procs: Iterable[subprocess.Popen[bytes]], timeout: float = 30.0) -> None:
    """SIGTERM (faust commits and leaves the group), then SIGKILL the process groups left after ``timeout``."""
    stop_supervised({f"pid {p.pid}": p for p in procs}, timeout)
