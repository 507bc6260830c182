"""Benchmark of the whole pipeline end to end through Kafka, against bare spaCy in the same run.

Run from the repository root (part of ``make bench``):

    .venv/bin/python -m evaluation.e2e.bench [--articles 2000] [--memory-articles 10000] [--out bench/results.json]

Every run is the project's own broker (fresh, free ports) and ``newswatch run`` (every service) as
a user runs it; articles are produced to the raw-articles topic as JSON, as a user submits them.

1. Default workers. ``--warm-up`` BBC articles first (models loaded, groups settled), then
   ``--articles`` more; the clock runs from the first send until every consumer group has
   committed the end of its input, in stage order. End to end: articles over that wall time. Per
   service: messages consumed per second (its /metrics) and the CPU seconds of its worker and
   stage child; every process's resident memory after the warm-up and at the end. Then, with the
   pipeline still running, latency at half load: ``--latency-articles`` more BBC articles and the
   labelled troop-movement reports (evaluation/events/movements.csv, which fire alerts) are sent
   one at a time at half the measured rate; per article, send to its storied record, and per
   report that makes an event, send to its first event record (event-alert or event-mention
   topic): p50, p95, p99. Last, the state per article: the changelog topics of every table
   (dedup's index, the stories, the events) read to their end and compacted (the last value of
   each key), bytes over articles sent.
2. Bare spaCy, with nothing else running: the entities stage's model, ``nlp.pipe`` over the same
   articles (title and body, the stage's batch size) in this one process: NER only (the stage's
   own pipes) and the whole pipeline.
3. Two entities workers (``newswatch run --workers entities=2``, two partitions): the same
   articles through a fresh pipeline; end to end over bare NER-only.
4. Memory over ``--memory-articles`` (BBC, then Reuters-21578 wires in their order): every
   process's resident memory after the first tenth and at the end; py-spy records every worker
   for the first ``--profile-s`` seconds after the warm-up, and where their CPU went is printed
   by service (evaluation/e2e/profile.py).

Printed: the table and each goal (``ok``/``UNDER``). Written: ``--out`` (JSON). Like every
benchmark it exits 0 on a goal missed. The machines are shared and noisy: compare the ratios,
measured in the same run, not seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient

from evaluation.dedup.corpus import Doc
from evaluation.e2e import profile, readme
from evaluation.events.movements import load_reports
from evaluation.pipeline import (
    RunningPipeline,
    TopicReader,
    own_broker,
    running_pipeline,
    usage_by_process,
    usage_by_service,
)
from evaluation.settings import REPO, corpora_dir
from evaluation.stories.bench import bbc_sample, caught_up, metric_sums, send
from evaluation.stories.quality import read_reuters
from services.entities.pipeline import load_nlp
from services.entities.settings import EntitiesSettings
from shared.topics import (
    EVENT_ALERTS,
    EVENT_MENTIONS,
    MAX_MESSAGE_BYTES,
    RAW_ARTICLES,
    SERVICES,
    STORIED_ARTICLES,
)

RATIO_GOAL = 0.9
RATIO_TWO_WORKERS_GOAL = 1.3
P99_GOAL_S = 1.0
MEMORY_GOAL = 1.10  # end over after-warm-up, every process
MIB = 2**20
TWO_WORKERS = {"entities": 2}


def raw_value(run: str, n: int, fields: dict[str, str]) -> bytes:
    """One article as an analyst drops it on the input topic, with an id of this run's own."""
    return json.dumps({**fields, "id": f"bench-{run}-{n}"}).encode()


def bbc_values(docs: Sequence[Doc], run: str) -> list[bytes]:
    return [
        raw_value(
            run, n, {"title": d.title, "text": "\n\n".join(d.paragraphs), "source": "bbc.co.uk"}
        )
        for n, d in enumerate(docs)
    ]


def reuters_values(run: str, limit: int) -> list[bytes]:
    """Reuters-21578 wires with a title and a body of 200 characters or more, in their order."""
    wires = read_reuters(None, corpora_dir())
    found = []
    for newid in sorted(wires, key=int):
        title, body, when = wires[newid]
        if title.strip() and len(body.strip()) >= 200:
            fields = {"title": title, "text": body, "published_at": when.isoformat()}
            found.append(raw_value(run, len(found), fields | {"source": "reuters.com"}))
        if len(found) >= limit:
            break
    return found


def movement_values(run: str) -> list[bytes]:
    """The labelled troop-movement reports (they fire alerts that make events)."""
    return [raw_value(run, n, r.raw) for n, r in enumerate(load_reports("all"))]


def article_id(value: bytes) -> str:
    return json.loads(value)["id"]


def send_paced(bootstrap: str, values: Sequence[bytes], rate: float) -> dict[str, float]:
    """Send one article every 1/``rate`` seconds; the wall-clock time each id was sent."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=0, max_request_size=MAX_MESSAGE_BYTES
    )
    sent = {}
    try:
        started = time.perf_counter()
        for n, value in enumerate(values):
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sent[article_id(value)] = time.time()
            producer.send(RAW_ARTICLES.name, value=value)
        producer.flush(timeout=300)
    finally:
        producer.close(timeout=10)
    return sent


def first_records(bootstrap: str, topics: Sequence[str]) -> dict[str, float]:
    """Each article's first record on any of ``topics``: its broker timestamp in seconds."""
    first: dict[str, float] = {}
    for topic in topics:
        reader = TopicReader(bootstrap, topic)
        try:
            records = reader.read_to_end(timeout=120)
        finally:
            reader.close()
        for record in records:
            key = json.loads(record.value)["article_id"]
            first[key] = min(first.get(key, float("inf")), record.timestamp / 1000)
    return first


def percentiles(waits: Sequence[float]) -> dict[str, float | None]:
    return {f"p{q}_s": float(np.percentile(waits, q)) if waits else None for q in (50, 95, 99)}


def latency_at_half_load(
    pipeline: RunningPipeline, values: Sequence[bytes], rate: float
) -> dict[str, Any]:
    """Send ``values`` at ``rate``; seconds from each send to its storied and its first event record."""
    sent = send_paced(pipeline.bootstrap, values, rate)
    caught_up(pipeline)
    storied = first_records(pipeline.bootstrap, [STORIED_ARTICLES.name])
    evented = first_records(pipeline.bootstrap, [EVENT_ALERTS.name, EVENT_MENTIONS.name])
    to_storied = [storied[a] - t for a, t in sent.items() if a in storied]
    to_event = [evented[a] - t for a, t in sent.items() if a in evented]
    return {
        "articles_per_s": rate,
        "sent": len(sent),
        "storied": {"measured": len(to_storied), **percentiles(to_storied)},
        "event": {"measured": len(to_event), **percentiles(to_event)},
    }


def state_bytes(pipeline: RunningPipeline) -> dict[str, int]:
    """Bytes of each service's tables as their changelog topics hold them once compacted.

    faust names a table's changelog ``<app id>-<table>-changelog``; the app id is the service and
    the run's group suffix. Compacted: the last value of each key, keys and values counted, a
    deleted key (no value) not.
    """
    admin = KafkaAdminClient(bootstrap_servers=pipeline.bootstrap)
    try:
        topics = [t for t in admin.list_topics() if t.endswith("-changelog")]
    finally:
        admin.close()
    sizes: dict[str, int] = {}
    for service in SERVICES:
        latest: dict[bytes, bytes | None] = {}
        for topic in (t for t in topics if t.startswith(f"{pipeline.group(service)}-")):
            reader = TopicReader(pipeline.bootstrap, topic)
            try:
                for record in reader.read_to_end(timeout=120):
                    latest[(topic.encode(), record.partition, record.key)] = record.value
            finally:
                reader.close()
        sizes[service] = sum(len(k[2] or b"") + len(v) for k, v in latest.items() if v)
    return sizes


def process_memory(pipeline: RunningPipeline) -> dict[str, float]:
    """Resident MiB of every worker and stage child, by ``service worker|stage child pid``."""
    return {f"{u.service} {u.role} {u.pid}": u.rss / MIB for u in usage_by_process(pipeline)}


def memory_ratios(start: dict[str, float], end: dict[str, float]) -> dict[str, dict[str, float]]:
    """Each process's MiB at start and end and their ratio (processes alive at both)."""
    return {
        name: {"start": start[name], "end": end[name], "ratio": end[name] / start[name]}
        for name in start
        if name in end and start[name] > 0
    }


def broker_cpu_s() -> float:
    """CPU seconds so far of the broker this process started (own_broker: a java child)."""
    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            if "kafka.Kafka" in " ".join(child.cmdline()):
                times = child.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            continue
    return total


def consumed(pipeline: RunningPipeline) -> dict[str, float]:
    """Messages each service has consumed so far (every input topic), from its /metrics."""
    return {s: metric_sums(pipeline, s).get("news_messages_consumed_total", 0.0) for s in SERVICES}


def throughput(
    pipeline: RunningPipeline, warm: Sequence[bytes], measured: Sequence[bytes]
) -> dict[str, Any]:
    """Send ``warm``, wait, then ``measured`` as fast as the producer goes; rates, CPU, memory."""
    send(pipeline.bootstrap, warm)
    caught_up(pipeline)
    count_before, (cpu_before, _) = consumed(pipeline), usage_by_service(pipeline)
    broker_before = broker_cpu_s()
    memory_start = process_memory(pipeline)
    started = time.perf_counter()
    send(pipeline.bootstrap, measured)
    caught_up(pipeline)
    wall = time.perf_counter() - started
    count_after, (cpu_after, _) = consumed(pipeline), usage_by_service(pipeline)
    broker = broker_cpu_s() - broker_before
    per_stage = {
        s: {
            "consumed": int(count_after[s] - count_before[s]),
            "consumed_per_s": (count_after[s] - count_before[s]) / wall,
            "cpu_s": cpu_after.get(s, 0.0) - cpu_before.get(s, 0.0),
        }
        for s in SERVICES
    }
    return {
        "sent": len(measured),
        "warm_up": len(warm),
        "wall_s": wall,
        "e2e_articles_per_s": len(measured) / wall,
        "per_stage": per_stage,
        "broker_cpu_s": broker,
        # how busy the workers and the broker kept the machine's cores over the wall
        "cpu_share_of_cores": (sum(v["cpu_s"] for v in per_stage.values()) + broker)
        / (wall * (os.cpu_count() or 1)),
        "memory_mib": memory_ratios(memory_start, process_memory(pipeline)),
    }


def default_workers(
    warm: Sequence[bytes], measured: Sequence[bytes], paced: Sequence[bytes]
) -> dict[str, Any]:
    """Run 1: throughput, then latency at half load and the state per article."""
    with tempfile.TemporaryDirectory(prefix="e2e-bench-") as tmp:
        work = Path(tmp)
        with own_broker(work) as bootstrap, running_pipeline(bootstrap, work) as pipeline:
            result = throughput(pipeline, warm, measured)
            rate = result["e2e_articles_per_s"] / 2
            result["latency_at_half_load"] = latency_at_half_load(pipeline, paced, rate)
            sent = len(warm) + len(measured) + len(paced)
            state = state_bytes(pipeline)
            result["state_bytes_per_article"] = {s: n / sent for s, n in state.items() if n}
    return result


def two_entities_workers(warm: Sequence[bytes], measured: Sequence[bytes]) -> dict[str, Any]:
    """Run 3: the same articles through a fresh pipeline with two entities workers."""
    with tempfile.TemporaryDirectory(prefix="e2e-bench-") as tmp:
        work = Path(tmp)
        with (
            own_broker(work) as bootstrap,
            running_pipeline(bootstrap, work, workers=TWO_WORKERS) as pipeline,
        ):
            return throughput(pipeline, warm, measured)


def sample_memory(
    pipeline: RunningPipeline,
    trace: list[dict[str, Any]],
    done: threading.Event,
    started: float,
    every_s: float = 15.0,
) -> None:
    """Every ``every_s`` until ``done``: the seconds, articles the entities stage has consumed, and every process's MiB.

    Growth that follows the articles is a leak or unbounded state; a step that stays put is a
    buffer reaching its high-water mark.
    """
    while not done.wait(every_s):
        try:
            entities = metric_sums(pipeline, "entities").get("news_messages_consumed_total", 0.0)
            trace.append(
                {
                    "s": round(time.perf_counter() - started, 1),
                    "entities_consumed": int(entities),
                    "mib": {k: round(v, 1) for k, v in process_memory(pipeline).items()},
                }
            )
        except OSError:  # a worker restarting: no sample this time
            continue


def memory_run(values: Sequence[bytes], profile_s: float, out_dir: Path) -> dict[str, Any]:
    """Run 4: every process's memory after the first tenth and at the end; a py-spy profile."""
    warm = max(1, len(values) // 10)
    with tempfile.TemporaryDirectory(prefix="e2e-bench-") as tmp:
        work = Path(tmp)
        with own_broker(work) as bootstrap, running_pipeline(bootstrap, work) as pipeline:
            send(bootstrap, values[:warm])
            caught_up(pipeline)
            after_warm_up = process_memory(pipeline)
            cpu_before, _ = usage_by_service(pipeline)
            started = time.perf_counter()
            trace: list[dict[str, Any]] = []
            done = threading.Event()
            sampler = threading.Thread(
                target=sample_memory, args=(pipeline, trace, done, started), daemon=True
            )
            sampler.start()
            with profile.recording(pipeline.worker_pids(), out_dir) as files:
                send(bootstrap, values[warm:])
                time.sleep(max(0.0, profile_s - (time.perf_counter() - started)))
            cpu_after, _ = usage_by_service(pipeline)
            caught_up(pipeline)
            wall = time.perf_counter() - started
            done.set()
            sampler.join()
            end = process_memory(pipeline)
    cpu = {s: cpu_after.get(s, 0.0) - cpu_before.get(s, 0.0) for s in SERVICES}
    return {
        "articles": len(values),
        "warm_up": warm,
        "wall_s": wall,
        "memory_mib": memory_ratios(after_warm_up, end),
        "memory_trace": trace,
        "profile": {
            "seconds": profile_s,
            "cpu_s": cpu,
            "shares": profile.shares_by_service(files),
        },
    }


def texts_of(docs: Sequence[Doc]) -> list[str]:
    """What the entities stage reads of each article: its title and its body."""
    texts = []
    for d in docs:
        texts += [d.title, "\n\n".join(d.paragraphs)]
    return texts


def bare_spacy(docs: Sequence[Doc], model: str, batch_size: int) -> tuple[float, float]:
    """Articles per second of ``nlp.pipe`` over ``docs``: NER only (the stage's pipes), whole pipeline."""
    texts = texts_of(docs)
    rates = []
    for disable_unused in (True, False):
        nlp = load_nlp(model, disable_unused=disable_unused)
        list(nlp.pipe(texts[:20], batch_size=batch_size))  # warm-up
        started = time.perf_counter()
        for _ in nlp.pipe(texts, batch_size=batch_size):
            pass
        rates.append(len(docs) / (time.perf_counter() - started))
    return rates[0], rates[1]


def git_head() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def verdict(ok: bool) -> str:
    return "ok    " if ok else "UNDER "


def report(results: dict[str, Any]) -> None:
    """Print the figures and each goal."""
    one, cores = results["default_workers"], results["cores"]
    print(
        f"end to end: {one['sent']} BBC articles (after {one['warm_up']} to warm up) in "
        f"{one['wall_s']:.1f} s = {one['e2e_articles_per_s']:.2f} articles/s; {cores} cores, "
        f"load {results['machine']['load_average_at_start'][0]:.2f} at start"
    )
    print(
        f"bare spaCy ({results['spacy_model']}, nlp.pipe, batch {results['spacy_batch_size']}, one "
        f"process): NER only {results['bare_ner_articles_per_s']:.2f} articles/s, whole pipeline "
        f"{results['bare_full_articles_per_s']:.2f} articles/s"
    )
    print(f"{'service':9s} {'consumed':>8s} {'msg/s':>7s} {'CPU s':>7s} {'state B/art':>11s}")
    for s in SERVICES:
        stage = one["per_stage"][s]
        state = one.get("state_bytes_per_article", {}).get(s)
        print(
            f"{s:9s} {stage['consumed']:8d} {stage['consumed_per_s']:7.2f} {stage['cpu_s']:7.1f} "
            f"{f'{state:,.0f}' if state else '-':>11s}"
        )
    print(
        f"{'broker':9s} {'':8s} {'':7s} {one['broker_cpu_s']:7.1f}; workers and broker kept "
        f"{one['cpu_share_of_cores']:.0%} of the {cores} cores busy"
    )
    lat = one["latency_at_half_load"]
    for what in ("storied", "event"):
        got = lat[what]
        if got["measured"]:
            print(
                f"latency at half load ({lat['articles_per_s']:.1f} articles/s), send to {what} "
                f"record ({got['measured']} of {lat['sent']}): p50 {got['p50_s']:.2f} s, "
                f"p95 {got['p95_s']:.2f} s, p99 {got['p99_s']:.2f} s"
            )
    two = results.get("two_entities_workers")
    if two:
        print(
            f"two entities workers: {two['e2e_articles_per_s']:.2f} articles/s "
            f"(entities CPU {two['per_stage']['entities']['cpu_s']:.1f} s)"
        )
    memory = results.get("memory")
    if memory:
        print(
            f"memory over {memory['articles']:,} articles (after {memory['warm_up']:,}): "
            "MiB after warm-up -> end"
        )
        for name, mem in memory["memory_mib"].items():
            print(f"  {name:28s} {mem['start']:7.0f} -> {mem['end']:7.0f} ({mem['ratio']:.2f})")
        prof = memory["profile"]
        print(f"where the CPU goes (py-spy, first {prof['seconds']:.0f} s):")
        print("\n".join(profile.table(prof["shares"], prof["cpu_s"])))
    print(f"end to end / bare whole pipeline: {results['ratio_to_bare_spacy_full']:.2f}")
    ratio = results["ratio_to_bare_spacy"]
    print(
        f"{verdict(ratio >= RATIO_GOAL)} end to end / bare NER only: {ratio:.2f} (goal >= {RATIO_GOAL})"
    )
    if results.get("ratio_two_workers") is not None:
        two_ratio = results["ratio_two_workers"]
        print(
            f"{verdict(two_ratio >= RATIO_TWO_WORKERS_GOAL)} two entities workers / bare NER only: "
            f"{two_ratio:.2f} (goal >= {RATIO_TWO_WORKERS_GOAL})"
        )
    if results.get("p99_s") is not None:
        print(
            f"{verdict(results['p99_s'] <= P99_GOAL_S)} p99 send to event at half load: "
            f"{results['p99_s']:.2f} s (goal <= {P99_GOAL_S})"
        )
    if memory:
        worst = max(m["ratio"] for m in memory["memory_mib"].values())
        print(
            f"{verdict(worst <= MEMORY_GOAL)} memory end / after warm-up, worst process: "
            f"{worst:.2f} (goal <= {MEMORY_GOAL})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--articles", type=int, default=2000, help="BBC articles measured through Kafka"
    )
    parser.add_argument(
        "--warm-up", type=int, default=20, help="BBC articles sent first, unmeasured"
    )
    parser.add_argument(
        "--latency-articles",
        type=int,
        default=200,
        help="BBC articles sent at half the measured rate with the movement reports (0: none)",
    )
    parser.add_argument(
        "--memory-articles",
        type=int,
        default=10000,
        help="articles (BBC, then Reuters) of the memory run and its profile (0: no such run)",
    )
    parser.add_argument(
        "--profile-s", type=float, default=60.0, help="seconds py-spy records in the memory run"
    )
    parser.add_argument(
        "--no-two-workers", action="store_true", help="skip the run with two entities workers"
    )
    parser.add_argument(
        "--out", type=Path, default=REPO / "bench" / "results.json", help="the results (JSON)"
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    settings = EntitiesSettings()
    model, batch_size = settings.entities_spacy_model, settings.entities_batch_size
    load_at_start = os.getloadavg()
    when = datetime.now(UTC).isoformat(timespec="seconds")
    run = uuid.uuid4().hex[:8]
    docs = bbc_sample(args.articles + args.warm_up + args.latency_articles)
    warm_docs, measured_docs = docs[: args.warm_up], docs[args.warm_up :][: args.articles]
    latency_docs = docs[args.warm_up + args.articles :]
    warm, measured = bbc_values(warm_docs, run + "w"), bbc_values(measured_docs, run)
    paced = bbc_values(latency_docs, run + "l") + movement_values(run + "m")
    random.Random(7).shuffle(paced)  # the reports spread among the BBC articles

    every = bbc_values(bbc_sample(10**6), run + "b") if args.memory_articles else []
    if len(every) < args.memory_articles:
        every += reuters_values(run + "r", args.memory_articles - len(every))

    results: dict[str, Any] = {"default_workers": default_workers(warm, measured, paced)}
    ner_only, whole = bare_spacy(measured_docs, model, batch_size)
    if not args.no_two_workers:
        results["two_entities_workers"] = two_entities_workers(warm, measured)
    if args.memory_articles:
        out_dir = Path(tempfile.mkdtemp(prefix="e2e-profile-"))
        results["memory"] = memory_run(every[: args.memory_articles], args.profile_s, out_dir)
    load_at_end = os.getloadavg()
    one = results["default_workers"]
    two = results.get("two_entities_workers")
    event = one["latency_at_half_load"]["event"]
    results |= {
        "articles": one["sent"],
        "e2e_articles_per_s": one["e2e_articles_per_s"],
        "bare_ner_articles_per_s": ner_only,
        "bare_full_articles_per_s": whole,
        "ratio_to_bare_spacy": one["e2e_articles_per_s"] / ner_only,
        "ratio_to_bare_spacy_full": one["e2e_articles_per_s"] / whole,
        "ratio_two_workers": two["e2e_articles_per_s"] / ner_only if two else None,
        "p99_s": event["p99_s"],
        "spacy_model": model,
        "spacy_batch_size": batch_size,
        "cores": os.cpu_count(),
        "commit": git_head(),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_at_start": list(load_at_start),
            "load_average_at_end": list(load_at_end),
        },
        "when": when,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    report(results)
    print(f"written: {args.out}")
    if args.out.resolve() == readme.RESULTS.resolve():  # the committed run: its figures in the docs
        for page in readme.update(results):
            print(f"written: {page.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
