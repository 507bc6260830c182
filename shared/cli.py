"""The ``newswatch`` command: run the pipeline, submit articles, read alerts, process files without Kafka."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from shared.settings import DEFAULT_BOOTSTRAP
from shared.supervise import KILL_GRACE_S, Interrupts
from shared.topics import (
    ALERTS,
    CLEAN_ARTICLES,
    ENRICHED_ARTICLES,
    RAW_ARTICLES,
    SERVICES,
    TOPICS,
    UNIQUE_ARTICLES,
)

REPO = Path(__file__).resolve().parent.parent
INPUT_SUFFIXES = {".txt", ".html", ".htm", ".json", ".jsonl"}


# ---------------------------------------------------------------- inputs (submit and process)


def read_inputs(paths: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    """Yield (origin, message bytes) for each article in files, folders or ``-`` (stdin).

    A folder gives the article files directly in it, not its subfolders (``seeds/`` keeps example
    payloads of other topics in subfolders that must not go onto the input topic).

    ``.txt`` is sent as it is (plain text, one article or a dump); ``.html``/``.htm`` is wrapped as
    ``{"html": ...}``; ``.json`` is one object; ``.jsonl`` is one object a line. Stdin holding JSON
    lines is read a line at a time, anything else as one plain-text article.
    """
    for arg in paths:
        if arg == "-":
            data = sys.stdin.buffer.read()
            lines = [ln for ln in data.splitlines() if ln.strip()]
            if lines and all(ln.lstrip().startswith(b"{") for ln in lines):
                for n, line in enumerate(lines, 1):
                    yield f"<stdin>:{n}", line
            else:
                yield "<stdin>", data
            continue
        path = Path(arg)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in INPUT_SUFFIXES)
        elif path.is_file():
            files = [path]
        else:
            raise SystemExit(f"newswatch: no such file or folder: {arg}")
        for file in files:
            yield from _read_file(file)


def _read_file(file: Path) -> Iterator[tuple[str, bytes]]:
    data = file.read_bytes()
    suffix = file.suffix.lower()
    if suffix in {".html", ".htm"}:
        # Pages come in many charsets: decode as trafilatura does (meta charset, then detection),
        # since a JSON message can only carry text.
        from trafilatura.utils import decode_file

        yield str(file), json.dumps({"html": decode_file(data)}).encode()
    elif suffix == ".jsonl":
        for n, line in enumerate(data.splitlines(), 1):
            if line.strip():
                yield f"{file}:{n}", line
    else:  # .txt, .json and anything named explicitly: as it is
        yield str(file), data


# ---------------------------------------------------------------- process


def cmd_process(args: argparse.Namespace) -> int:
    """Run the four cores in this process and print one JSON line per record."""
    from services.entities.settings import EntitiesSettings
    from services.stages import STAGES
    from shared.pipeline import LocalPipeline

    overrides = {}
    if args.spacy_model:
        overrides["entities"] = EntitiesSettings().model_copy(update={"entities_spacy_model": args.spacy_model})
    pipeline = LocalPipeline(STAGES, overrides, until=args.until)
    out = sys.stdout
    for _origin, value in read_inputs(args.paths):
        for record in pipeline.feed(value):
            out.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
    out.flush()
    return 0


# ---------------------------------------------------------------- broker, topics, run


def _partitions(args: argparse.Namespace) -> int:
    from shared.settings import ServiceSettings

    return getattr(args, "partitions", None) or ServiceSettings().topic_partitions


def _bootstrap(args: argparse.Namespace) -> str:
    from shared.settings import ServiceSettings

    return getattr(args, "bootstrap", None) or ServiceSettings().kafka_bootstrap


def kafka_security() -> dict[str, Any]:
    """kafka-python's security keyword arguments from the NEWS_KAFKA_* settings (shared.security).

    For every kafka-python client the CLI makes: ``KafkaProducer(..., **kafka_security())``.
    Inconsistent settings stop the command with the settings' own message.
    """
    from pydantic import ValidationError

    from shared.security import kafka_python_kwargs
    from shared.settings import ServiceSettings

    try:
        return kafka_python_kwargs(ServiceSettings())
    except ValidationError as error:
        raise SystemExit(f"newswatch: invalid NEWS_* settings: {error}") from None


@contextmanager
def _connecting(bootstrap: str, security: dict[str, Any]) -> Iterator[None]:
    """Around a kafka-python client's construction: a refused login or no broker ends the command with one line."""
    from kafka.errors import KafkaError

    from shared.broker import KafkaAccessError, reveal_access_failures

    try:
        with reveal_access_failures(bootstrap, security):
            yield
    except KafkaAccessError as error:
        raise SystemExit(f"newswatch: {error}") from None
    except KafkaError as error:
        raise SystemExit(f"newswatch: cannot connect to Kafka at {bootstrap}: {error}") from None


def cmd_topics(args: argparse.Namespace) -> int:
    """Create every topic in shared.topics that does not exist yet."""
    from shared.broker import BrokerError, ensure_topics

    try:
        created = ensure_topics(_bootstrap(args), TOPICS, _partitions(args), security=kafka_security())
    except BrokerError as error:  # KafkaAccessError included: a refused login says so
        raise SystemExit(f"newswatch: {error}") from None
    print(f"topics: {len(created)} created, {len(TOPICS) - len(created)} already there")
    return 0


def cmd_broker(args: argparse.Namespace) -> int:
    """Run the local Kafka broker in the foreground."""
    from shared.broker import main as broker_main

    return broker_main(["start", *args.broker_args]) or 0


def cmd_run(args: argparse.Namespace) -> int:
    """Broker (unless one is reachable) plus the four workers, supervised until Ctrl-C (shared.supervise).

    A dead or stalled worker, or the dead local broker, is restarted within the policy's tries;
    past them everything stops and the exit status is 1. Ctrl-C, SIGTERM or SIGHUP stop the workers
    (bounded), then the broker; a closed stdout never cuts that short.
    """
    import logging

    from shared.broker import LocalKafka, broker_reachable, ensure_topics
    from shared.security import kafka_python_kwargs
    from shared.settings import RunSettings
    from shared.supervise import GiveUp, GroupProgress, RestartPolicy, Supervisor, say, stop_workers

    _INTERRUPTS.install()
    settings = RunSettings()
    security: dict[str, Any] = kafka_python_kwargs(settings)
    # kafka-python's own warnings (a refused connection while the broker restarts) would flood
    # this output; the supervisor says what happened instead.
    logging.getLogger("kafka").addHandler(logging.NullHandler())
    logging.getLogger("kafka").propagate = False
    bootstrap = _bootstrap(args)
    broker: LocalKafka | None = None
    policy = RestartPolicy.from_settings(settings)
    spawned: dict[str, subprocess.Popen[bytes]] = {}  # every worker process ever started
    probe = None
    code = 0
    try:
        if broker_reachable(bootstrap, security=security):
            say(f"newswatch: using the Kafka broker at {bootstrap}")
        else:
            local = f"127.0.0.1:{args.broker_port}"
            if bootstrap not in (DEFAULT_BOOTSTRAP, local):
                say(f"newswatch: {bootstrap} is not reachable; starting the local broker instead")
            say("newswatch: starting the local Kafka broker (first run fetches its jars with Maven) …")
            broker = LocalKafka(port=args.broker_port,
                                data_dir=Path(args.broker_data_dir) if args.broker_data_dir else None)
            bootstrap = broker.start()
            security = {}  # the local broker listens in PLAINTEXT
            say(f"newswatch: Kafka ready at {bootstrap} (pid {broker.pid}, controller port "
                f"{broker.controller_port}; log: {broker.log_path})")
        ensure_topics(bootstrap, TOPICS, _partitions(args), security=security)
        logs = Path(args.logs)
        logs.mkdir(parents=True, exist_ok=True)
        ports = {svc: args.metrics_base + n for n, svc in enumerate(SERVICES)}
        groups = {svc: f"{svc}{settings.group_suffix}" for svc in SERVICES}

        def spawn(service: str) -> subprocess.Popen[bytes]:
            with _INTERRUPTS.deferred():  # recorded before a Ctrl-C can interrupt
                proc = start_worker(service, bootstrap, logs / f"{service}.log", _partitions(args),
                                    env={"NEWS_METRICS_PORT": str(ports[service])})
                spawned[f"{service} (pid {proc.pid})"] = proc
            return proc

        probe = GroupProgress(bootstrap, groups, {svc: t.name for svc, t in SOURCES.items()}, security)
        supervisor = Supervisor(
            SERVICES, spawn, policy, say=lambda line: say(f"newswatch: {line}"), broker=broker,
            reachable=None if broker is not None else lambda: broker_reachable(bootstrap, 2.0, security=security),
            probe=probe, stall_after_s=settings.run_stall_after_s,
            stop_timeout_s=settings.run_stop_timeout_s)
        supervisor.start_workers()
        say(f"newswatch: workers starting; logs in {logs}/<service>.log")
        for service in SERVICES:
            proc = supervisor.workers[service].proc
            say(f"  {service:9s} metrics http://127.0.0.1:{ports[service]}/metrics"
                f" (pid {proc.pid if proc else '?'})")
        wait_ready(bootstrap, list(groups.values()),
                   {s: proc for s, proc in spawned.items() if proc.poll() is None},
                   timeout=args.ready_timeout, security=security)
        say(f"newswatch: ready. Submit with `newswatch submit seeds/`, read alerts with `newswatch alerts --follow`."
            f" Input topic {RAW_ARTICLES.name}, alerts on {ALERTS.name}. Ctrl-C stops everything.")
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
        # Workers first (they commit and leave their groups while the broker is still there).
        stop_workers(spawned, settings.run_stop_timeout_s + KILL_GRACE_S,
                     say=lambda line: say(f"newswatch: {line}"))
        if broker is not None:
            broker.stop(settings.run_stop_timeout_s)
        say(f"newswatch: stopped; {policy.summary()}")
    return code


# The topic each service consumes, as its stage declares it (services/<svc>/stage.py; a unit test
# checks they agree): the supervisor's lag. Spelled here so `newswatch run` need not import spaCy.
SOURCES = {"clean": RAW_ARTICLES, "dedup": CLEAN_ARTICLES, "entities": UNIQUE_ARTICLES,
           "alerts": ENRICHED_ARTICLES}


# SIGINT/SIGTERM/SIGHUP → KeyboardInterrupt in `newswatch run`, held while a worker is being started.
_INTERRUPTS = Interrupts()


def _interrupt(signum: int, frame: object = None) -> None:
    _INTERRUPTS.handle(signum, frame)


def wait_ready(bootstrap: str, groups: list[str], workers: dict[str, subprocess.Popen[bytes]],
               timeout: float = 180.0, security: dict[str, Any] | None = None) -> None:
    """Wait until every worker's consumer group is Stable with members (partitions assigned)."""
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","), client_id="newswatch-run",
                             **(security or {}))
    deadline = time.monotonic() + timeout
    try:
        pending = set(groups)
        while pending:
            for service, proc in workers.items():
                if proc.poll() is not None:
                    raise SystemExit(f"newswatch: worker {service} exited with {proc.returncode} while starting")
            try:
                described = admin.describe_groups(sorted(pending))
            except KafkaError:  # the group coordinator is not up until __consumer_offsets exists
                described = {}
            for group, info in described.items():
                if info.get("group_state") == "Stable" and info.get("members"):
                    pending.discard(group)
            if pending and time.monotonic() > deadline:
                raise SystemExit(f"newswatch: workers not ready after {timeout:.0f} s: {sorted(pending)}")
            time.sleep(0.5)
    finally:
        admin.close()


def start_worker(service: str, bootstrap: str, log_file: Path, partitions: int,
                 env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start one faust worker process (``python -m services.<svc>.app worker``), in its own process group."""
    from shared.broker import die_with_parent

    environ = {**os.environ, **(env or {}), "NEWS_KAFKA_BOOTSTRAP": bootstrap,
               "NEWS_TOPIC_PARTITIONS": str(partitions)}
    with open(log_file, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", f"services.{service}.app", "worker", "--without-web", "-l", "info"],
            cwd=REPO, env=environ, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            # Its own session: Ctrl-C reaches only newswatch, which stops the workers in order; and
            # a SIGKILL of the group takes the worker's isolated stage child too.
            start_new_session=True,
            # SIGTERM when newswatch dies: faust then commits and leaves its group, or its stop
            # watchdog (shared.kafka.run_worker) ends it within the stop timeout.
            preexec_fn=die_with_parent(signal.SIGTERM),  # noqa: PLW1509 — started before any thread
        )


def stop_workers(procs: Iterable[subprocess.Popen[bytes]], timeout: float = 30.0) -> None:
    """SIGTERM (faust commits and leaves the group), then SIGKILL the process groups left after ``timeout``."""
    from shared.supervise import stop_workers as stop

    stop({f"pid {p.pid}": p for p in procs}, timeout)


# ---------------------------------------------------------------- submit, alerts


def cmd_submit(args: argparse.Namespace) -> int:
    """Send files, folders, JSON lines or stdin onto the input topic."""
    from kafka import KafkaProducer
    from kafka.errors import KafkaError
    from tqdm import tqdm

    from shared.topics import MAX_MESSAGE_BYTES

    items = list(read_inputs(args.paths))
    bootstrap, security = _bootstrap(args), kafka_security()
    with _connecting(bootstrap, security):
        producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), acks="all", linger_ms=5,
                                 max_request_size=MAX_MESSAGE_BYTES, **security)
    pending = []
    failed = 0
    try:
        for origin, value in tqdm(items, unit="msg", disable=len(items) < 10 or not sys.stderr.isatty()):
            try:
                pending.append((origin, producer.send(RAW_ARTICLES.name, value=value)))
            except KafkaError as error:  # e.g. larger than the topic takes: say which, go on
                print(f"newswatch: {origin}: not sent: {error}", file=sys.stderr)
                failed += 1
        for origin, future in pending:
            try:
                future.get(timeout=60)
            except KafkaError as error:
                print(f"newswatch: {origin}: not sent: {error}", file=sys.stderr)
                failed += 1
    finally:
        producer.close(timeout=10)
    print(f"submitted {len(items) - failed} message(s) to {RAW_ARTICLES.name}"
          + (f"; {failed} failed" if failed else ""))
    return 1 if failed else 0


def cmd_alerts(args: argparse.Namespace) -> int:
    """Print alerts: those this group has not seen yet (or all with --from-beginning); --follow waits."""
    from kafka import KafkaConsumer, TopicPartition

    from shared.schemas import Alert

    bootstrap, security = _bootstrap(args), kafka_security()
    from shared.settings import CliSettings

    group = None if args.from_beginning else (args.group or CliSettings().alerts_group)
    with _connecting(bootstrap, security):
        consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=group,
                                 auto_offset_reset="earliest", enable_auto_commit=group is not None,
                                 consumer_timeout_ms=1000, **security)
    partitions = [TopicPartition(ALERTS.name, p) for p in (consumer.partitions_for_topic(ALERTS.name) or [])]
    if not partitions:
        print(f"newswatch: topic {ALERTS.name} does not exist yet (is `newswatch run` up?)", file=sys.stderr)
        return 1
    if group is None:
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
    else:
        consumer.subscribe([ALERTS.name])
    seen: set[str] = set()  # at-least-once delivery may repeat an alert; its id is stable
    try:
        while True:
            for record in consumer:
                try:
                    alert = Alert.model_validate_json(record.value)
                except ValueError as error:
                    print(f"newswatch: unreadable alert at offset {record.offset}: {error}", file=sys.stderr)
                    continue
                if alert.alert_id in seen:
                    continue
                seen.add(alert.alert_id)
                print(alert.model_dump_json() if args.json else format_alert(alert), flush=True)
            if not args.follow and _caught_up(consumer):
                break
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
    return 0


def _caught_up(consumer: object) -> bool:
    assignment = consumer.assignment()  # type: ignore[attr-defined]
    if not assignment:
        return False
    ends = consumer.end_offsets(list(assignment))  # type: ignore[attr-defined]
    return all(consumer.position(tp) >= end for tp, end in ends.items())  # type: ignore[attr-defined]


def format_alert(alert: object) -> str:
    """A readable alert: when, which rule, where from, the evidence and its entities."""
    from shared.schemas import Alert

    assert isinstance(alert, Alert)
    where = " · ".join(x for x in (alert.source, alert.title) if x) or alert.article_id
    entities = ", ".join(f"{e.canonical or e.text} ({e.label})" for e in alert.entities)
    lines = [
        f"[{alert.fired_at:%Y-%m-%d %H:%M:%S}] {alert.rule_id}: {where}",
        f"  “{alert.evidence}”",
    ]
    if entities:
        lines.append(f"  entities: {entities}")
    if alert.url:
        lines.append(f"  {alert.url}")
    return "\n".join(lines)


# ---------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``newswatch`` command."""
    parser = argparse.ArgumentParser(prog="newswatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_bootstrap(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--bootstrap", help=f"Kafka bootstrap servers (default $NEWS_KAFKA_BOOTSTRAP or {DEFAULT_BOOTSTRAP})")
        return p

    partitions = None  # NEWS_TOPIC_PARTITIONS (shared.settings) unless given
    p = with_bootstrap(sub.add_parser("run", help="start the broker (unless reachable) and the four services"))
    p.add_argument("--partitions", type=int, default=partitions)
    p.add_argument("--metrics-base", type=int, default=9101,
                   help="first /metrics port: clean, dedup, entities, alerts take it and the next three")
    p.add_argument("--logs", default=str(REPO / ".cache" / "logs"), help="folder for the workers' logs")
    p.add_argument("--ready-timeout", type=float, default=180.0)
    p.add_argument("--broker-port", type=int, default=int(DEFAULT_BOOTSTRAP.rpartition(":")[2]),
                   help="port of the local broker, when one is started (default %(default)s)")
    p.add_argument("--broker-data-dir", help="data dir of the local broker (default .cache/kafka/data);"
                                             " kept across runs and restarts")
    p.set_defaults(func=cmd_run)

    p = with_bootstrap(sub.add_parser("submit", help="send articles onto the input topic"))
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, folders, or - for stdin")
    p.set_defaults(func=cmd_submit)

    p = with_bootstrap(sub.add_parser("alerts", help="print alerts"))
    p.add_argument("--follow", "-f", action="store_true", help="keep waiting for new alerts")
    p.add_argument("--from-beginning", action="store_true", help="all alerts, not only those not yet shown")
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    p.add_argument("--group", help="the consumer group that remembers what was shown "
                                     "(default $NEWS_ALERTS_GROUP or newswatch-cli-alerts)")
    p.set_defaults(func=cmd_alerts)

    p = sub.add_parser("process", help="run the four stages in this process, no Kafka; JSON lines out")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files (.txt .html .json .jsonl), folders, or -")
    p.add_argument("--spacy-model", help="the spaCy model (default $NEWS_ENTITIES_SPACY_MODEL or en_core_web_sm)")
    p.add_argument("--until", choices=SERVICES, default="alerts",
                   help="stop after this stage (e.g. --until dedup for a dedup backfill without spaCy)")
    p.set_defaults(func=cmd_process)

    p = with_bootstrap(sub.add_parser("topics", help="create the topics (idempotent)"))
    p.add_argument("--partitions", type=int, default=partitions)
    p.set_defaults(func=cmd_topics)

    # Its options are `python -m shared.broker start`'s, passed on as they are by parse_args (a
    # REMAINDER positional here took nothing when the first option started with "--").
    p = sub.add_parser("broker", help="run the local Kafka broker in the foreground "
                                      "(options: --port, --data-dir, --fresh, … as `python -m shared.broker start`)")
    p.set_defaults(func=cmd_broker, broker_args=[])
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse a ``newswatch`` command line; ``broker`` keeps the options it does not know for the broker."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "broker":
        args.broker_args = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``newswatch`` console script."""
    args = parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # `newswatch process … | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
