"""The two runners of the stages agree: the worker's agent loop (fake topics) and ``newswatch process`` give the same records, dead letters included."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from cli.inputs import read_inputs
from cli.pipeline import LocalPipeline
from services.stages import STAGES
from shared.topics import TOPICS
from tests.factories import bad_inputs, run_stage

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
# Set from the clock by whichever runner ran the stage (an event's first and last seen are its
# alerts' fired_at when the seeds give no published_at), and a dead letter's place in a partition,
# which `process` has not got: everything else must be the same.
VOLATILE = {
    "ingested_at",
    "fired_at",
    "failed_at",
    "detected_at",
    "first_seen",
    "last_seen",
    "partition",
    "offset",
    "key_b64",
}


def normalised(topic: str, value: bytes) -> str:
    data = json.loads(value)
    for key in VOLATILE:
        data.pop(key, None)
    if topic.endswith(".dlq"):  # a bug's traceback names the runner's frames
        data["error"] = data["error"].splitlines()[0] if data.get("error") else ""
    return json.dumps(data, sort_keys=True)


def through_workers(values: list[bytes], stages: tuple[Any, ...]) -> Counter[tuple[str, str]]:
    """Each stage in turn under the worker's loop, fed what the previous one published on its topic."""
    published: dict[str, list[bytes]] = {stages[0].consumes.name: values}
    for stage in stages:
        run = run_stage(stage, published.get(stage.consumes.name, []))
        for topic, fake in run.topics.items():
            published.setdefault(topic, []).extend(value for _, value in fake.sent)
    del published[stages[0].consumes.name]
    return Counter((topic, normalised(topic, v)) for topic, vs in published.items() for v in vs)


def through_process(values: list[bytes], stages: tuple[Any, ...]) -> Counter[tuple[str, str]]:
    pipeline = LocalPipeline(stages)
    return Counter(
        (r.topic, normalised(r.topic, r.value.to_bytes())) for v in values for r in pipeline.feed(v)
    )


def inputs() -> list[bytes]:
    seeds = [value for _, value in read_inputs([str(SEEDS)])]
    return seeds + bad_inputs(60, seed=3, oversize_bytes=100_000)


def test_clean_and_dedup_give_the_same_records_under_both_runners():
    values = inputs()
    stages = STAGES[:2]
    workers, process = through_workers(values, stages), through_process(values, stages)
    assert workers == process
    kinds = Counter(topic for topic, _ in workers.elements())
    # Not vacuous: good and bad inputs reached every outcome of these stages.
    assert kinds["news.unique-article.v1"] >= 5 and kinds["news.duplicate-notice.v1"] >= 1
    assert kinds["news.clean.dlq"] >= 20
    reasons = {json.loads(s)["reason"] for t, s in workers if t == "news.clean.dlq"}
    assert len(reasons) >= 4


@pytest.mark.slow
def test_every_stage_gives_the_same_records_under_both_runners():
    values = inputs()
    workers, process = through_workers(values, STAGES), through_process(values, STAGES)
    assert workers == process
    assert {topic for topic, _ in workers} >= {
        "news.enriched-article.v1",
        "news.storied-article.v1",
        "news.story-record.v1",
        "news.alert.v1",
        "news.event-alert.v1",
        "news.event-mention.v1",
        "news.clean.dlq",
    }
    assert {t for t, _ in workers} <= {t.name for t in TOPICS}


def _build_oversize(settings, store=None):
    from datetime import UTC, datetime

    from shared.schemas import CleanArticle
    from shared.topics import MAX_MESSAGE_BYTES

    def handle(value: bytes) -> list[CleanArticle]:
        small = CleanArticle(
            article_id="small", text="fine", ingested_at=datetime(2026, 1, 1, tzinfo=UTC)
        )
        return [
            small,
            small.model_copy(update={"article_id": "huge", "text": "x" * (MAX_MESSAGE_BYTES + 1)}),
        ]

    return handle


def test_an_output_too_large_for_its_topic_dead_letters_the_input_whole_under_both_runners():
    from shared.settings import ServiceSettings
    from shared.stage import Stage
    from shared.topics import CLEAN_ARTICLES, RAW_ARTICLES

    stage = Stage(
        "clean",
        RAW_ARTICLES,
        (CLEAN_ARTICLES,),
        ServiceSettings,
        "tests.cli.test_runners_agree:_build_oversize",
    )
    workers, process = (
        through_workers([b"anything"], (stage,)),
        through_process([b"anything"], (stage,)),
    )
    assert workers == process
    [(topic, letter)] = list(workers)  # nothing published, not even the small output
    assert topic == "news.clean.dlq" and json.loads(letter)["reason"] == "output_too_large"
