"""10,000 bad inputs interleaved with good articles through `newswatch run` on the real broker.

Each bad input is dead-lettered with the reason `newswatch process` gives it (never
`internal_error`), each good article goes all the way, no worker leaves its group, no message takes
2 s or more in any stage, and the workers' memory after the run is within 10% of where it was after
a warm-up. The inputs: tests.factories.bad_inputs (hypothesis-drawn random bytes, invalid UTF-8,
JSON of the wrong types, random text; crafted deep nesting, oversize bodies, adversarial
repetitions, HTML with scripts and external resources).
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator

import psutil
import pytest
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient

from cli.pipeline import LocalPipeline
from evaluation.dedup.corpus import load_bbc
from services.stages import stages_until
from shared.schemas import CleanArticle, DeadLetter, DuplicateNotice, EnrichedArticle, UniqueArticle
from shared.topics import (
    CLEAN_ARTICLES,
    DEAD_LETTERS,
    DUPLICATES,
    ENRICHED_ARTICLES,
    MAX_MESSAGE_BYTES,
    RAW_ARTICLES,
    SERVICES,
    STORIED_ARTICLES,
    UNIQUE_ARTICLES,
)
from tests.factories import bad_inputs
from tests.integration.harness import RunningPipeline, own_broker, running_pipeline
from tests.integration.kafkautil import TopicReader, wait_caught_up

RUN = uuid.uuid4().hex[:8]
BAD, GOOD = 10_000, 200
WARM_UP = 2_000  # bad inputs of another draw first, so memory is measured from its steady state
# What a stage may answer to input it cannot use: each names what was wrong (shared.errors).
PRECISE = {
    "invalid_json",
    "invalid_schema",
    "not_utf8",
    "binary",
    "oversize",
    "empty",
    "not_an_object",
    "empty_after_cleaning",
    "empty_text",
    "output_too_large",
    "too_long",
}


def good_articles() -> list[bytes]:
    docs = load_bbc()[::10][:GOOD]
    return [
        json.dumps(
            {"id": f"fuzz-{RUN}-{n}", "title": d.title, "text": "\n\n".join(d.paragraphs)}
        ).encode()
        for n, d in enumerate(docs)
    ]


def interleave(bad: list[bytes], good: list[bytes]) -> list[bytes]:
    """``bad`` with the ``good`` spread evenly among them."""
    every = max(1, len(bad) // max(1, len(good)))
    out: list[bytes] = []
    for n, value in enumerate(bad):
        out.append(value)
        if n % every == every - 1 and n // every < len(good):
            out.append(good[n // every])
    return out


def send(bootstrap: str, values: list[bytes]) -> list[tuple[int, int]]:
    """Send in order; (partition, offset) of each, once the broker has them all."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_request_size=MAX_MESSAGE_BYTES
    )
    try:
        futures = [producer.send(RAW_ARTICLES.name, value=v) for v in values]
        producer.flush(timeout=300)
        return [(m.partition, m.offset) for m in (f.get(timeout=60) for f in futures)]
    finally:
        producer.close(timeout=10)


def caught_up(pipeline: RunningPipeline) -> None:
    for service, topic in [
        ("clean", RAW_ARTICLES),
        ("dedup", CLEAN_ARTICLES),
        ("entities", UNIQUE_ARTICLES),
        ("stories", ENRICHED_ARTICLES),
        ("alerts", STORIED_ARTICLES),
    ]:
        wait_caught_up(pipeline.bootstrap, pipeline.group(service), topic.name, timeout=900)


def rss_by_service(pipeline: RunningPipeline) -> dict[str, int]:
    """Resident memory of each service: its worker and its stage process."""
    total: dict[str, int] = defaultdict(int)
    for pid in pipeline.worker_pids():
        try:
            proc = psutil.Process(pid)
            cmdline = " ".join(proc.cmdline())
            rss = proc.memory_info().rss
        except psutil.Error:
            continue
        service = next((s for s in SERVICES if f"services.{s}." in cmdline), None)
        if service:
            total[service] += rss
            print(f"  {service} pid {pid} rss {rss / 2**20:.0f} MiB: {cmdline[-60:]}")
    return dict(total)


def scrape(pipeline: RunningPipeline, service: str) -> dict[str, float]:
    body = (
        urllib.request.urlopen(
            f"http://127.0.0.1:{pipeline.metrics_ports[service]}/metrics", timeout=5
        )
        .read()
        .decode()
    )
    wanted = {}
    for labels, value in re.findall(r"news_handler_seconds_count{([^}]*)} (\S+)", body):
        if f'service="{service}"' in labels:
            wanted["count"] = float(value)
    for labels, value in re.findall(r"news_handler_seconds_bucket{([^}]*)} (\S+)", body):
        le = re.search(r'le="([^"]+)"', labels)
        if f'service="{service}"' in labels and le and le.group(1) in ("2.0", "10.0"):
            wanted[f"under_{le.group(1)}"] = float(value)
    return wanted


def members(pipeline: RunningPipeline) -> dict[str, set[str]]:
    admin = KafkaAdminClient(bootstrap_servers=pipeline.bootstrap)
    try:
        groups = admin.describe_groups([pipeline.group(s) for s in SERVICES])
        return {g: {m["member_id"] for m in info.get("members", [])} for g, info in groups.items()}
    finally:
        admin.close()


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPipeline]:
    """Its own broker and `newswatch run`: 10,000 dead letters on the shared topics would slow
    every other test that reads them from the beginning."""
    work = tmp_path_factory.mktemp("fuzz")
    with own_broker(work) as bootstrap, running_pipeline(bootstrap, work) as running:
        yield running


@pytest.fixture(scope="module")
def fuzzed(pipeline: RunningPipeline):
    good = good_articles()
    warm_up = interleave(bad_inputs(WARM_UP, seed=8), good[: GOOD // 10])
    stream = warm_up + interleave(bad_inputs(BAD), good[GOOD // 10 :])
    split = len(warm_up)

    positions = send(pipeline.bootstrap, stream[:split])
    caught_up(pipeline)
    before = {s: scrape(pipeline, s) for s in SERVICES}
    memory_before, members_before = rss_by_service(pipeline), members(pipeline)
    started = time.monotonic()
    positions += send(pipeline.bootstrap, stream[split:])
    caught_up(pipeline)
    elapsed = time.monotonic() - started
    after = {s: scrape(pipeline, s) for s in SERVICES}
    memory_after, members_after = rss_by_service(pipeline), members(pipeline)
    print(
        f"\n{len(stream) - split} messages in {elapsed:.0f} s; memory before {memory_before}, after {memory_after}"
    )
    return {
        "stream": stream,
        "positions": positions,
        "good": good,
        "before": before,
        "after": after,
        "memory": (memory_before, memory_after),
        "members": (members_before, members_after),
    }


def records(pipeline: RunningPipeline, topic: str) -> list:
    reader = TopicReader(pipeline.bootstrap, topic)
    try:
        previous = -1
        while len(reader.poll()) != previous:
            previous = len(reader.records)
        return reader.records
    finally:
        reader.close()


def test_each_bad_input_is_dead_lettered_by_clean_with_the_reason_process_gives_it(
    fuzzed, pipeline
):
    local = LocalPipeline(stages_until("clean"))
    letters = {
        (d.partition, d.offset): d
        for d in (
            DeadLetter.model_validate_json(r.value)
            for r in records(pipeline, DEAD_LETTERS["clean"].name)
        )
    }
    clean_ids = {
        CleanArticle.model_validate_json(r.value).article_id
        for r in records(pipeline, CLEAN_ARTICLES.name)
    }
    reasons: Counter[str] = Counter()
    for value, position in zip(fuzzed["stream"], fuzzed["positions"], strict=True):
        expected = list(local.feed(value))
        if expected and expected[0].kind == "dead_letter":
            letter = letters.get(position)
            assert letter is not None, f"no dead letter for {value[:80]!r} at {position}"
            assert letter.reason == expected[0].value.reason, (
                letter.reason,
                letter.error[:300],
                value[:80],
            )
            assert letter.original == value
            reasons[letter.reason] += 1
        else:
            assert position not in letters, (
                letters[position].reason,
                letters[position].error[:300],
            )
            assert {r.value.article_id for r in expected} <= clean_ids
    print(f"\nclean's dead letters by reason: {dict(reasons)}")
    assert set(reasons) <= PRECISE, f"imprecise reasons: {set(reasons) - PRECISE}"
    assert sum(reasons.values()) > BAD * 0.8


def test_every_good_article_goes_all_the_way_and_nothing_is_a_bug(fuzzed, pipeline):
    good_ids = {json.loads(v)["id"] for v in fuzzed["good"]}
    unique = {
        UniqueArticle.model_validate_json(r.value).article_id
        for r in records(pipeline, UNIQUE_ARTICLES.name)
    }
    duplicate = {
        DuplicateNotice.model_validate_json(r.value).article_id
        for r in records(pipeline, DUPLICATES.name)
    }
    enriched = {
        EnrichedArticle.model_validate_json(r.value).article_id
        for r in records(pipeline, ENRICHED_ARTICLES.name)
    }
    assert good_ids <= unique | duplicate
    assert good_ids & unique <= enriched
    for service in SERVICES:
        letters = [
            DeadLetter.model_validate_json(r.value)
            for r in records(pipeline, DEAD_LETTERS[service].name)
        ]
        bugs = [d for d in letters if d.reason in ("internal_error", "timeout", "stage_crashed")]
        assert not bugs, f"{service}: {[(d.reason, d.error[-300:]) for d in bugs[:3]]}"


def test_no_message_comes_near_the_stage_budget_in_any_stage(fuzzed):
    """No input stalls a stage: none takes a third of the 30 s stage budget.

    How many take 2 s or more (docs/bad-input.md: none on a quiet machine) is printed, not asserted: on a
    shared 2-core machine under load a long article's spaCy pass can cross 2 s, and speed is
    measured in benchmarks, not in timed tests.
    """
    slow = {}
    for service in SERVICES:
        before, after = fuzzed["before"][service], fuzzed["after"][service]
        handled = after["count"] - before["count"]
        assert handled > 0, service
        slow[service] = handled - (after["under_2.0"] - before["under_2.0"])
        stalled = handled - (after["under_10.0"] - before["under_10.0"])
        assert stalled == 0, f"{service}: {stalled:.0f} of {handled:.0f} messages took 10 s or more"
    print(f"\nmessages that took 2 s or more, by stage: {slow}")


def test_no_worker_left_its_group(fuzzed):
    before, after = fuzzed["members"]
    assert before == after and all(before.values())


def test_memory_is_back_within_ten_percent(fuzzed):
    before, after = fuzzed["memory"]
    assert set(before) == set(SERVICES), before
    for service in SERVICES:
        assert after[service] <= before[service] * 1.10, (service, before[service], after[service])
