"""The shared agent loop, without a broker: decode → core → send → count, and dead letters that never stop it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from shared.errors import Reject
from shared.kafka import Step
from shared.metrics import ServiceMetrics
from shared.schemas import CleanArticle, DeadLetter, RawArticle
from shared.topics import CLEAN_ARTICLES, RAW_ARTICLES


@dataclass
class FakeTopic:
    name: str
    sent: list[tuple[bytes | None, bytes]] = field(default_factory=list)

    async def send(self, *, key: bytes | None = None, value: bytes) -> None:
        self.sent.append((key, value))


@dataclass
class FakeMessage:
    topic: str
    partition: int
    offset: int


@dataclass
class FakeEvent:
    key: bytes | None
    value: bytes
    message: FakeMessage


class FakeStream:
    def __init__(self, values: list[bytes]) -> None:
        self.events_ = [FakeEvent(None, v, FakeMessage(RAW_ARTICLES.name, 0, n)) for n, v in enumerate(values)]

    async def events(self):
        for event in self.events_:
            yield event


class FakeApp:
    def __init__(self) -> None:
        self.topics: dict[str, FakeTopic] = {}

    def topic(self, name: str, **_: object) -> FakeTopic:
        return self.topics.setdefault(name, FakeTopic(name))


def handler(value: bytes) -> list[CleanArticle]:
    raw = RawArticle.model_validate_json(value)
    if raw.text == "boom":
        raise KeyError("a bug in the core")
    if raw.text == "reject":
        raise Reject("empty_after_cleaning", "nothing left")
    return [CleanArticle(article_id=raw.id or "x", text=raw.text or "", ingested_at=datetime.now(UTC))]


def run(values: list[bytes], offload: bool = False):
    app = FakeApp()
    registry = CollectorRegistry()
    metrics = ServiceMetrics("clean", registry)
    step = Step(app, "clean", handler, [CLEAN_ARTICLES], metrics, offload=offload)  # type: ignore[arg-type]
    asyncio.run(step(FakeStream(values)))  # type: ignore[arg-type]
    return app.topics, registry


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize("offload", [False, True])
def test_bad_messages_are_dead_lettered_and_the_stream_goes_on(offload):
    values = [b"{not json", b'{"id": "a", "text": "boom"}', b'{"id": "b", "text": "reject"}',
              b'{"id": "c", "text": "Troops arrived."}']
    topics, registry = run(values, offload)
    out = topics[CLEAN_ARTICLES.name].sent
    assert [CleanArticle.model_validate_json(v).article_id for _, v in out] == ["c"]
    assert out[0][0] == b"c"  # keyed by article id
    letters = [DeadLetter.model_validate_json(v) for _, v in topics["news.clean.dlq"].sent]
    assert [d.reason for d in letters] == ["invalid_json", "internal_error", "empty_after_cleaning"]
    assert [d.offset for d in letters] == [0, 1, 2]
    assert [d.original for d in letters] == values[:3]
    assert "Traceback" in letters[1].error  # a bug carries its traceback
    assert sample(registry, "news_messages_consumed_total", service="clean", topic=RAW_ARTICLES.name) == 4
    assert sample(registry, "news_messages_produced_total", service="clean", topic=CLEAN_ARTICLES.name) == 1
    assert sample(registry, "news_dead_letters_total", service="clean", reason="internal_error") == 1
    assert sample(registry, "news_processing_seconds_count", service="clean") == 4


def test_a_failing_send_is_not_swallowed():
    class BrokenTopic(FakeTopic):
        async def send(self, *, key=None, value):
            raise ConnectionError("broker gone")

    app = FakeApp()
    app.topics[CLEAN_ARTICLES.name] = BrokenTopic(CLEAN_ARTICLES.name)
    step = Step(app, "clean", handler, [CLEAN_ARTICLES], ServiceMetrics("clean", CollectorRegistry()))  # type: ignore[arg-type]
    with pytest.raises(ConnectionError):  # not about one message: the worker must stop loudly
        asyncio.run(step(FakeStream([b'{"text": "Troops arrived."}'])))  # type: ignore[arg-type]
