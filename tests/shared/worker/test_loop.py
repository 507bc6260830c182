"""The shared agent loop, without a broker: decode → core → send → count, and dead letters that never stop it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka.errors import KafkaConnectionError, RecordTooLargeError
from prometheus_client import CollectorRegistry

from shared.errors import Reject
from shared.metrics import ServiceMetrics
from shared.schemas import Alert, CleanArticle, DeadLetter, RawArticle
from shared.settings import ServiceSettings
from shared.stage import Stage
from shared.topics import ALERTS, CLEAN_ARTICLES, EVENT_ALERTS, EVENT_MENTIONS, RAW_ARTICLES
from shared.worker.isolate import StageUnavailable
from shared.worker.loop import END_TO_END, Step
from tests.factories import FakeApp, FakeStream, FakeTopic
from tests.shared.worker.isolate_stages import MISBEHAVING


def handler(value: bytes) -> list[CleanArticle]:
    raw = RawArticle.model_validate_json(value)
    if raw.text == "boom":
        raise KeyError("a bug in the core")
    if raw.text == "reject":
        raise Reject("empty_after_cleaning", "nothing left")
    return [
        CleanArticle(article_id=raw.id or "x", text=raw.text or "", ingested_at=datetime.now(UTC))
    ]


async def async_handler(value: bytes) -> list[CleanArticle]:
    """How an isolated stage's handler looks to the loop: a coroutine function."""
    return handler(value)


def run(
    values: list[bytes],
    asynchronous: bool = False,
    app: FakeApp | None = None,
    stream: FakeStream | None = None,
    **kwargs,
):
    app = app or FakeApp()
    registry = CollectorRegistry()
    metrics = ServiceMetrics("clean", registry)
    step = Step(app, MISBEHAVING, async_handler if asynchronous else handler, metrics, **kwargs)  # type: ignore[arg-type]
    asyncio.run(step(stream or FakeStream(values, RAW_ARTICLES.name)))  # type: ignore[arg-type]
    return app.topics, registry


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize("asynchronous", [False, True])
def test_bad_messages_are_dead_lettered_and_the_stream_goes_on(asynchronous):
    values = [
        b"{not json",
        b'{"id": "a", "text": "boom"}',
        b'{"id": "b", "text": "reject"}',
        b'{"id": "c", "text": "Troops arrived."}',
    ]
    stream = FakeStream(values, RAW_ARTICLES.name)
    topics, registry = run(values, asynchronous, stream=stream)
    out = topics[CLEAN_ARTICLES.name].sent
    assert [CleanArticle.model_validate_json(v).article_id for _, v in out] == ["c"]
    assert out[0][0] == b"c"  # keyed by article id
    letters = [DeadLetter.model_validate_json(v) for _, v in topics["news.clean.dlq"].sent]
    assert [d.reason for d in letters] == ["invalid_json", "internal_error", "empty_after_cleaning"]
    assert [d.offset for d in letters] == [0, 1, 2]
    assert [d.original for d in letters] == values[:3]
    assert "Traceback" in letters[1].error  # a bug carries its traceback
    assert (
        sample(registry, "news_messages_consumed_total", service="clean", topic=RAW_ARTICLES.name)
        == 4
    )
    assert (
        sample(registry, "news_messages_produced_total", service="clean", topic=CLEAN_ARTICLES.name)
        == 1
    )
    assert (
        sample(registry, "news_dead_letters_total", service="clean", reason="internal_error") == 1
    )
    assert sample(registry, "news_processing_seconds_count", service="clean") == 4
    assert [e.message.refcount for e in stream.events_] == [
        0,
        0,
        0,
        0,
    ]  # every message released: committable


class RefusingTopic(FakeTopic):
    """A topic whose broker acknowledges nothing: every send's future fails with ``error``."""

    def __init__(self, name: str, error: BaseException) -> None:
        super().__init__(name)
        self.error = error

    async def send(self, *, key=None, value):
        failed = asyncio.get_running_loop().create_future()
        failed.set_exception(self.error)
        return failed


def test_a_failing_send_is_not_swallowed():
    app = FakeApp()
    app.topics[CLEAN_ARTICLES.name] = RefusingTopic(
        CLEAN_ARTICLES.name, KafkaConnectionError("broker gone")
    )
    with pytest.raises(KafkaConnectionError):  # not about one message: the worker must stop loudly
        run([b'{"text": "Troops arrived."}'], app=app)


def test_a_failing_send_calls_fatal_and_dead_letters_nothing():
    app = FakeApp()
    app.topics[CLEAN_ARTICLES.name] = RefusingTopic(
        CLEAN_ARTICLES.name, KafkaConnectionError("broker gone")
    )
    stopped: list[BaseException] = []
    stream = FakeStream([b'{"text": "Troops arrived."}'], RAW_ARTICLES.name)
    run([], app=app, stream=stream, fatal=stopped.append)
    assert [type(e) for e in stopped] == [KafkaConnectionError]
    assert stream.events_[0].message.refcount == 1  # still held: faust's own ack cannot commit it
    assert "news.clean.dlq" not in app.topics or not app.topics["news.clean.dlq"].sent


def test_a_record_the_broker_refuses_is_dead_lettered_with_its_input_and_the_stream_goes_on():
    app = FakeApp()
    app.topics[CLEAN_ARTICLES.name] = RefusingTopic(
        CLEAN_ARTICLES.name, RecordTooLargeError("too large")
    )
    values = [b'{"id": "a", "text": "Troops arrived."}', b'{"id": "b", "text": "Ships left."}']
    topics, registry = run(values, app=app)
    letters = [DeadLetter.model_validate_json(v) for _, v in topics["news.clean.dlq"].sent]
    assert [(d.reason, d.original) for d in letters] == [("output_too_large", v) for v in values]
    assert (
        sample(registry, "news_messages_produced_total", service="clean", topic=CLEAN_ARTICLES.name)
        == 0
    )


def test_an_output_larger_than_its_topic_takes_is_dead_lettered_before_anything_is_sent():
    text = "word " * (CLEAN_ARTICLES.max_record_bytes // 5 + 1)
    values = [
        RawArticle(id="big", text=text).model_dump_json().encode(),
        b'{"id": "c", "text": "Troops arrived."}',
    ]
    topics, _ = run(values)
    assert [
        CleanArticle.model_validate_json(v).article_id for _, v in topics[CLEAN_ARTICLES.name].sent
    ] == ["c"]
    (letter,) = [DeadLetter.model_validate_json(v) for _, v in topics["news.clean.dlq"].sent]
    assert letter.reason == "output_too_large" and letter.original == values[0]
    assert f"takes {CLEAN_ARTICLES.max_record_bytes:,}" in letter.error


def test_a_stage_that_cannot_run_stops_the_worker_instead_of_dead_lettering_every_message():
    def unavailable(value: bytes) -> list[CleanArticle]:
        raise StageUnavailable(
            "services.entities.stage:STAGE: could not build its handler: no model"
        )

    app = FakeApp()
    stopped: list[BaseException] = []
    step = Step(
        app,
        MISBEHAVING,
        unavailable,
        ServiceMetrics("clean", CollectorRegistry()),  # type: ignore[arg-type]
        fatal=stopped.append,
    )
    asyncio.run(step(FakeStream([b'{"text": "Troops arrived."}'], RAW_ARTICLES.name)))  # type: ignore[arg-type]
    assert [type(e) for e in stopped] == [StageUnavailable]
    assert not app.topics["news.clean.dlq"].sent


def _alert(ingested_at: datetime | None) -> Alert:
    now = datetime.now(UTC)
    return Alert(
        alert_id="a1",
        rule_id="troop_movement",
        article_id="x",
        sentence_index=0,
        evidence="Troops arrived.",
        ingested_at=ingested_at,
        fired_at=now,
    )


def test_an_alert_written_is_timed_from_its_ingested_at_or_else_from_its_inputs():
    assert END_TO_END == {
        ALERTS.name: "alert",
        EVENT_ALERTS.name: "event",
        EVENT_MENTIONS.name: "event",
    }
    stage = Stage("alerts", ALERTS, (ALERTS,), ServiceSettings, "tests.factories:nothing")
    ago = datetime.now(UTC) - timedelta(seconds=3)
    registry = CollectorRegistry()
    metrics = ServiceMetrics("alerts", registry)
    own = Step(FakeApp(), stage, lambda value: [_alert(ago)], metrics)  # type: ignore[arg-type]
    asyncio.run(own(FakeStream([b"{}"], ALERTS.name)))  # type: ignore[arg-type]
    # no ingested_at of its own (an event record): the input's is used
    inherited = Step(FakeApp(), stage, lambda value: [_alert(None)], metrics)  # type: ignore[arg-type]
    value = _alert(ago).model_dump_json().encode()
    asyncio.run(inherited(FakeStream([value, b"{}"], ALERTS.name)))  # type: ignore[arg-type]
    count = sample(registry, "news_end_to_end_seconds_count", output="alert")
    assert count == 2  # the input without ingested_at is not timed
    assert 6 <= sample(registry, "news_end_to_end_seconds_sum", output="alert") < 30
    assert sample(registry, "news_end_to_end_seconds_bucket", output="alert", le="2.5") == 0
