"""Clean and dedup workers on a real broker decide a near-duplicate stream in order, as `newswatch process` does.

A sample of the BBC near-duplicate stream (evaluation/dedup/corpus.py; seed 3, 40 articles per
topic: 272 raw articles, 73 of them duplicates) goes onto news.raw-article.v1 as ``{"id", "text"}``
JSON, in stream order, over a partitioned raw topic; the real clean and dedup workers turn it into
unique articles and duplicate notices. What is tested is the Kafka path: every article reaches
dedup in stream order, nothing is dead-lettered, and the verdicts score as they do through
`newswatch process` on this sample (precision 1.000, recall 1.000; the floors of
evaluation/dedup/quality.py). The quality figures themselves: ``make eval``.

A broker of its own (dedup's index must only hold this stream), and the corpus is read from the
corpora folder (``NEWS_CORPORA_DIR``) at test time: a missing broker or corpus fails the test, it
never skips.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.broker import free_port
from cli.run import start_worker, stop_workers
from evaluation.dedup.corpus import build_stream, raw_record, score_records
from shared.admin import ensure_topics
from shared.topics import (
    CLEAN_ARTICLES,
    DEAD_LETTERS,
    DUPLICATES,
    RAW_ARTICLES,
    TOPICS,
    UNIQUE_ARTICLES,
)
from tests.integration.harness import own_broker
from tests.integration.kafkautil import TopicReader, produce, wait_caught_up

# The raw topic keeps the production shape (several partitions); news.clean-article.v1 has one
# partition by design. dedup therefore sees the stream in order only if clean reads it in order,
# and clean reads in order only within one partition: so every raw article is produced with the
# same key, which puts the whole stream on one raw partition in produce order. (Creating the raw
# topic with one partition would work too, but would no longer test the partitioned input.)
RAW_PARTITIONS = 2
STREAM_KEY = b"dedup-benchmark"


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with own_broker(tmp_path_factory.mktemp("kafka-dedup-stream")) as bootstrap:
        ensure_topics(bootstrap, TOPICS, RAW_PARTITIONS)
        yield bootstrap


def _tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return f"({path.name}: no log)"
    return f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _records(reader: TopicReader, kind: str) -> list[dict]:
    return [{"kind": kind, "value": json.loads(r.value)} for r in reader.records]


def test_near_duplicate_stream_through_the_kafka_pipeline_is_decided_in_order(broker, tmp_path):
    items = build_stream(seed=3, per_topic=40)
    suffix = f"-bench-{uuid.uuid4().hex[:6]}"
    env = {"NEWS_GROUP_SUFFIX": suffix, "NEWS_DATA_DIR": str(tmp_path / "faust")}
    logs = {svc: tmp_path / f"{svc}.log" for svc in ("clean", "dedup")}
    workers = [
        start_worker(
            svc,
            broker,
            logs[svc],
            RAW_PARTITIONS,
            env={**env, "NEWS_METRICS_PORT": str(free_port())},
        )
        for svc in ("clean", "dedup")
    ]
    readers: dict[str, TopicReader] = {}
    try:
        values = [json.dumps(raw_record(item), ensure_ascii=False).encode() for item in items]
        produce(broker, RAW_ARTICLES.name, values, key=STREAM_KEY)
        try:
            wait_caught_up(broker, f"clean{suffix}", RAW_ARTICLES.name, timeout=420)
            wait_caught_up(broker, f"dedup{suffix}", CLEAN_ARTICLES.name, timeout=420)
        except AssertionError as error:
            raise AssertionError(
                f"{error}\n{_tail(logs['clean'])}\n{_tail(logs['dedup'])}"
            ) from None
        assert all(w.poll() is None for w in workers), (
            f"{_tail(logs['clean'])}\n{_tail(logs['dedup'])}"
        )

        for name in (
            CLEAN_ARTICLES.name,
            UNIQUE_ARTICLES.name,
            DUPLICATES.name,
            DEAD_LETTERS["clean"].name,
            DEAD_LETTERS["dedup"].name,
        ):
            readers[name] = TopicReader(broker, name)
        # Both groups commit only after their outputs are acknowledged, so once they have caught
        # up every verdict is on its topic: one per clean article, less what dedup dead-lettered.
        clean_dead = readers[DEAD_LETTERS["clean"].name].poll()
        cleaned = readers[CLEAN_ARTICLES.name].wait_for(
            lambda rs: len(rs) >= len(items) - len(clean_dead),
            60,
            "a clean article per raw article",
        )
        # The order dedup saw: the stream order, or the labels (which article came first) are off.
        assert [json.loads(r.value)["article_id"] for r in cleaned] == [
            i.article.article_id for i in items
        ]
        dedup_dead = readers[DEAD_LETTERS["dedup"].name].poll()
        unique, dups = readers[UNIQUE_ARTICLES.name], readers[DUPLICATES.name]
        unique.wait_for(
            lambda _: len(unique.records) + len(dups.poll()) >= len(cleaned) - len(dedup_dead),
            60,
            "a unique article or a duplicate notice per clean article",
        )

        records = [
            *_records(unique, "unique"),
            *_records(dups, "duplicate"),
            *_records(readers[DEAD_LETTERS["clean"].name], "dead_letter"),
            *_records(readers[DEAD_LETTERS["dedup"].name], "dead_letter"),
        ]
        score = score_records(items, records)
        print(
            f"kafka: {len(items)} raw, {len(cleaned)} clean, {len(unique.records)} unique, "
            f"{len(dups.records)} duplicate; precision {score.precision:.4f} recall "
            f"{score.recall:.4f} F1 {score.f1:.4f} (tp {score.tp} fp {score.fp} fn {score.fn}); "
            f"kinds {dict(score.kinds)}"
        )
        assert score.tp + score.fn >= 60  # the sample holds enough duplicates to mean something
        assert not clean_dead and not dedup_dead and score.dead_letters == 0, score.errors
        assert score.precision >= 0.995, score.errors
        assert score.recall >= 0.99, score.errors
        assert score.f1 >= 0.995, score.errors
    finally:
        stop_workers(workers)
        for reader in readers.values():
            reader.close()
