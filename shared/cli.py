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
from pathlib import Path

from shared.settings import DEFAULT_BOOTSTRAP
from shared.topics import ALERTS, RAW_ARTICLES, SERVICES, TOPICS

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
    from shared.pipeline import LocalPipeline

    pipeline = LocalPipeline.with_real_model(args.spacy_model, until=args.until)
    out = sys.stdout
    for _origin, value in read_inputs(args.paths):
        for record in pipeline.feed(value):
            out.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
    out.flush()
    return 0


# ---------------------------------------------------------------- broker, topics, run


def _bootstrap(args: argparse.Namespace) -> str:
    return getattr(args, "bootstrap", None) or os.environ.get("NEWS_KAFKA_BOOTSTRAP") or DEFAULT_BOOTSTRAP


def cmd_topics(args: argparse.Namespace) -> int:
    """Create every topic in shared.topics that does not exist yet."""
    from shared.broker import ensure_topics

    created = ensure_topics(_bootstrap(args), TOPICS, args.partitions)
    print(f"topics: {len(created)} created, {len(TOPICS) - len(created)} already there")
    return 0


def cmd_broker(args: argparse.Namespace) -> int:
    """Run the local Kafka broker in the foreground."""
    from shared.broker import main as broker_main

    return broker_main(["start", *args.broker_args]) or 0


def cmd_run(args: argparse.Namespace) -> int:
    """Broker (unless one is reachable) plus the four workers, until Ctrl-C; non-zero if a worker dies."""
    from shared.broker import LocalKafka, broker_reachable, ensure_topics

    # Ctrl-C or SIGTERM interrupts whatever is under way (broker start, readiness wait) at once;
    # set explicitly because a background job of a shell starts with SIGINT ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    bootstrap = _bootstrap(args)
    broker = None
    workers: dict[str, subprocess.Popen[bytes]] = {}
    code = 0
    try:
        if broker_reachable(bootstrap):
            print(f"newswatch: using the Kafka broker at {bootstrap}")
        else:
            if bootstrap != DEFAULT_BOOTSTRAP:
                print(f"newswatch: {bootstrap} is not reachable; starting the local broker instead")
            print("newswatch: starting the local Kafka broker (first run fetches its jars with Maven) …")
            broker = LocalKafka()
            bootstrap = broker.start()
            print(f"newswatch: Kafka ready at {bootstrap} (log: {broker.log_path})")
        ensure_topics(bootstrap, TOPICS, args.partitions)
        logs = Path(args.logs)
        logs.mkdir(parents=True, exist_ok=True)
        suffix = os.environ.get("NEWS_GROUP_SUFFIX", "")
        ports = {svc: args.metrics_base + n for n, svc in enumerate(SERVICES)}
        for service in SERVICES:
            workers[service] = start_worker(service, bootstrap, logs / f"{service}.log", args.partitions,
                                            env={"NEWS_METRICS_PORT": str(ports[service])})
        print(f"newswatch: workers starting; logs in {logs}/<service>.log")
        for service in SERVICES:
            print(f"  {service:9s} metrics http://127.0.0.1:{ports[service]}/metrics")
        wait_ready(bootstrap, [f"{svc}{suffix}" for svc in SERVICES], workers, timeout=args.ready_timeout)
        print(f"newswatch: ready. Submit with `newswatch submit seeds/`, read alerts with `newswatch alerts --follow`."
              f" Input topic {RAW_ARTICLES.name}, alerts on {ALERTS.name}. Ctrl-C stops everything.", flush=True)
        while code == 0:
            for service, proc in workers.items():
                if proc.poll() is not None:
                    print(f"newswatch: worker {service} exited with {proc.returncode}; see {logs}/{service}.log")
                    code = 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean stop short
        print("newswatch: stopping …", flush=True)
        stop_workers(workers.values())
        if broker is not None:
            broker.stop()
        print("newswatch: stopped", flush=True)
    return code


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def wait_ready(bootstrap: str, groups: list[str], workers: dict[str, subprocess.Popen[bytes]],
               timeout: float = 180.0) -> None:
    """Wait until every worker's consumer group is Stable with members (partitions assigned)."""
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","), client_id="newswatch-run")
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
    """Start one faust worker process (``python -m services.<svc>.app worker``)."""
    from shared.broker import die_with_parent

    environ = {**os.environ, **(env or {}), "NEWS_KAFKA_BOOTSTRAP": bootstrap,
               "NEWS_TOPIC_PARTITIONS": str(partitions)}
    with open(log_file, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", f"services.{service}.app", "worker", "--without-web", "-l", "info"],
            cwd=REPO, env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            # SIGTERM when newswatch dies: faust then commits and leaves its group.
            preexec_fn=die_with_parent(signal.SIGTERM),  # noqa: PLW1509 — started before any thread
        )


def stop_workers(procs: Iterable[subprocess.Popen[bytes]], timeout: float = 30.0) -> None:
    """SIGTERM (faust commits and leaves the group), then SIGKILL what is left after ``timeout``."""
    procs = [p for p in procs if p.poll() is None]
    for proc in procs:
        proc.terminate()
    deadline = time.monotonic() + timeout
    for proc in procs:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- submit, alerts


def cmd_submit(args: argparse.Namespace) -> int:
    """Send files, folders, JSON lines or stdin onto the input topic."""
    from kafka import KafkaProducer
    from kafka.errors import KafkaError
    from tqdm import tqdm

    from shared.topics import MAX_MESSAGE_BYTES

    items = list(read_inputs(args.paths))
    producer = KafkaProducer(bootstrap_servers=_bootstrap(args).split(","), acks="all", linger_ms=5,
                             max_request_size=MAX_MESSAGE_BYTES)
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

    bootstrap = _bootstrap(args).split(",")
    group = None if args.from_beginning else args.group
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                             enable_auto_commit=group is not None, consumer_timeout_ms=1000)
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

    partitions = int(os.environ.get("NEWS_TOPIC_PARTITIONS", "3"))
    p = with_bootstrap(sub.add_parser("run", help="start the broker (unless reachable) and the four services"))
    p.add_argument("--partitions", type=int, default=partitions)
    p.add_argument("--metrics-base", type=int, default=9101,
                   help="first /metrics port: clean, dedup, entities, alerts take it and the next three")
    p.add_argument("--logs", default=str(REPO / ".cache" / "logs"), help="folder for the workers' logs")
    p.add_argument("--ready-timeout", type=float, default=180.0)
    p.set_defaults(func=cmd_run)

    p = with_bootstrap(sub.add_parser("submit", help="send articles onto the input topic"))
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, folders, or - for stdin")
    p.set_defaults(func=cmd_submit)

    p = with_bootstrap(sub.add_parser("alerts", help="print alerts"))
    p.add_argument("--follow", "-f", action="store_true", help="keep waiting for new alerts")
    p.add_argument("--from-beginning", action="store_true", help="all alerts, not only those not yet shown")
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    p.add_argument("--group", default=os.environ.get("NEWS_ALERTS_GROUP", "newswatch-cli-alerts"))
    p.set_defaults(func=cmd_alerts)

    p = sub.add_parser("process", help="run the four stages in this process, no Kafka; JSON lines out")
    p.add_argument("paths", nargs="+", metavar="PATH", help="files (.txt .html .json .jsonl), folders, or -")
    p.add_argument("--spacy-model", default=os.environ.get("NEWS_ENTITIES_SPACY_MODEL", "en_core_web_sm"))
    p.add_argument("--until", choices=SERVICES, default="alerts",
                   help="stop after this stage (e.g. --until dedup for a dedup backfill without spaCy)")
    p.set_defaults(func=cmd_process)

    p = with_bootstrap(sub.add_parser("topics", help="create the topics (idempotent)"))
    p.add_argument("--partitions", type=int, default=partitions)
    p.set_defaults(func=cmd_topics)

    p = sub.add_parser("broker", help="run the local Kafka broker in the foreground "
                                      "(options: --port, --data-dir, --fresh, … as `python -m shared.broker start`)")
    p.add_argument("broker_args", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_broker)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``newswatch`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # `newswatch process … | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
