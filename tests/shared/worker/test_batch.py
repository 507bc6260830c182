"""The batch loop of a stage that takes batches, over faust's own ``take_events`` and fake output topics: acks only after every output is written, per-message dead letters, fallback to one message at a time, flush within the wait."""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import faust
import pytest
import spacy
from aiokafka.errors import KafkaConnectionError, RecordTooLargeError
from prometheus_client import CollectorRegistry

from services.entities.handler import EntitiesHandler
from services.entities.ruler import add_domain_ruler
from services.entities.settings import EntitiesSettings
from shared.errors import classify
from shared.metrics import ServiceMetrics
from shared.schemas import CleanArticle, DeadLetter, EnrichedArticle, UniqueArticle
from shared.settings import ServiceSettings
from shared.stage import Batching, Count
from shared.topics import CLEAN_ARTICLES, RAW_ARTICLES
from shared.worker.isolate import IsolatedHandler, StageUnavailable
from shared.worker.loop import Step, _parts
from tests.factories import split_sentences
from tests.shared.worker.isolate_stages import BATCHED, MISBEHAVING, NO_BATCH, Batched, build

_apps = itertools.count()


def faust_source() -> tuple[faust.App, faust.TopicT]:
    """A faust app of its own (no broker is reached in a test context) and the input topic."""
    faust_app = faust.App(
        f"test-batch-{next(_apps)}",
        broker="kafka://127.0.0.1:1",
        web_enabled=False,
        key_serializer="raw",
        value_serializer="raw",
    )
    return faust_app, faust_app.topic(
        RAW_ARTICLES.name, key_serializer="raw", value_serializer="raw"
    )


@dataclass
class LoggedTopic:
    """A fake output topic whose broker acknowledges each record ``delay_s`` after it was sent."""

    name: str
    log: list[tuple[Any, ...]]
    delay_s: float = 0.02
    sent: list[tuple[bytes | None, bytes]] = field(default_factory=list)

    async def send(self, *, key: bytes | None = None, value: bytes) -> asyncio.Future:
        self.sent.append((key, value))
        loop = asyncio.get_running_loop()
        written = loop.create_future()

        def acknowledge() -> None:
            self.log.append(("written", self.name, key))
            written.set_result(None)

        loop.call_later(self.delay_s, acknowledge)
        return written


class RefusingTopic(LoggedTopic):
    """Refuses the records whose key is in ``refuse`` (``error``), acknowledges the others."""

    def __init__(self, name, log, refuse: set[bytes], error: BaseException) -> None:
        super().__init__(name, log)
        self.refuse, self.error = refuse, error

    async def send(self, *, key=None, value):
        if key not in self.refuse:
            return await super().send(key=key, value=value)
        self.sent.append((key, value))
        failed = asyncio.get_running_loop().create_future()
        failed.set_exception(self.error)
        return failed


class FakeApp:
    def __init__(self, log: list) -> None:
        self.log = log
        self.topics: dict[str, LoggedTopic] = {}

    def topic(self, name: str, **_: object) -> LoggedTopic:
        return self.topics.setdefault(name, LoggedTopic(name, self.log))


@dataclass
class Run:
    topics: dict[str, LoggedTopic]
    registry: CollectorRegistry
    log: list[
        tuple[Any, ...]
    ]  # ("written", topic, key), ("ack", offset), ("fatal", error) in order
    took_s: float
    committable: list[bool]  # each input's message fully acked (faust may commit its offset)

    def out(self) -> list[str]:
        return [
            CleanArticle.model_validate_json(v).article_id
            for _, v in self.topics[CLEAN_ARTICLES.name].sent
        ]

    def letters(self) -> list[DeadLetter]:
        return [DeadLetter.model_validate_json(v) for _, v in self.topics["news.clean.dlq"].sent]

    def sample(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


def run(
    values: list[bytes],
    batch,
    *,
    single=None,
    size: int = 4,
    within_s: float = 0.05,
    max_bytes: int = 1 << 20,
    log: list | None = None,
    app: FakeApp | None = None,
    fatal=None,
    expect_acks: int | None = None,
) -> Run:
    """``values`` (keyed k0, k1, …) through a Step fed by a real faust agent stream (``take_events``)."""
    log = [] if log is None else log
    app = app or FakeApp(log)
    registry = CollectorRegistry()
    step = Step(
        app,
        MISBEHAVING,
        single or build(None),
        ServiceMetrics("clean", registry),  # type: ignore[arg-type]
        batch=batch,
        fatal=fatal,
        batching=Batching(size=size, within_s=within_s, max_bytes=max_bytes, budget_s=1.0),
    )
    faust_app, source = faust_source()

    async def agent(stream: faust.StreamT) -> None:
        acknowledge = stream.ack

        async def ack(event: faust.EventT) -> bool:  # where faust marks an offset safe to commit
            log.append(("ack", event.message.offset))
            return await acknowledge(event)

        stream.ack = ack  # type: ignore[method-assign]
        await step(stream)

    wired = faust_app.agent(source, name="clean")(agent)
    wanted = len(values) if expect_acks is None else expect_acks

    events: list[faust.EventT] = []

    async def main() -> float:
        async with wired.test_context() as test:
            started = time.perf_counter()
            for n, value in enumerate(values):
                events.append(await deliver(test, value, f"k{n}".encode(), n))
            while sum(1 for entry in log if entry[0] == "ack") < wanted:
                assert time.perf_counter() - started < 30, f"acks so far: {log}"
                await asyncio.sleep(0.005)
            return time.perf_counter() - started

    took = asyncio.run(main())
    return Run(app.topics, registry, log, took, [event.message.acked for event in events])


async def deliver(test: Any, value: bytes, key: bytes, offset: int) -> faust.EventT:
    """``test.put`` plus the reference faust's conductor takes for the one stream it feeds
    (``Message.incref``): the message is committable once that reference is acked."""
    message = test.to_message(key, value, offset=offset)
    message.incref()
    event = await test.stream().channel.decode(message)
    await test.stream().channel.put(event)
    return event


def article(article_id: str, text: str = "Troops arrived.") -> bytes:
    return f'{{"id": "{article_id}", "text": "{text}"}}'.encode()


def test_a_batch_is_acked_only_after_every_output_of_it_is_written():
    values = [article(f"a{n}") for n in range(7)]
    batched = Batched(build(None))
    result = run(values, batched.batch, size=3)
    assert result.out() == [f"a{n}" for n in range(7)]
    assert max(batched.calls) <= 3 and sum(batched.calls) == 7 and len(batched.calls) >= 3
    for n in range(7):
        written = result.log.index(("written", CLEAN_ARTICLES.name, f"a{n}".encode()))
        assert written < result.log.index(("ack", n)), result.log
    assert result.committable == [True] * 7


def test_a_message_rejected_inside_a_batch_is_dead_lettered_alone_and_the_rest_go_on():
    values = [article("a"), article("r", "reject"), b"{not json", article("c")]
    batched = Batched(build(None))
    result = run(
        values, batched.batch, size=4, within_s=10
    )  # full at four, never split by a slow machine
    assert batched.calls == [4]  # one call for the batch: no fallback
    assert result.out() == ["a", "c"]
    letters = result.letters()
    assert [(d.reason, d.offset, d.original) for d in letters] == [
        ("empty_after_cleaning", 1, values[1]),
        ("invalid_json", 2, values[2]),
    ]
    for n in (
        1,
        2,
    ):  # dead letters, too, are written before their input is acked (keyed by the input's key)
        assert result.log.index(("written", "news.clean.dlq", f"k{n}".encode())) < result.log.index(
            ("ack", n)
        )
    assert (
        result.sample("news_messages_consumed_total", service="clean", topic=RAW_ARTICLES.name) == 4
    )
    assert (
        result.sample("news_messages_produced_total", service="clean", topic=CLEAN_ARTICLES.name)
        == 2
    )
    assert result.sample("news_dead_letters_total", service="clean", reason="invalid_json") == 1
    assert result.sample("news_handler_seconds_count", service="clean") == 4
    assert result.sample("news_processing_seconds_count", service="clean") == 4


def test_a_batch_that_raises_falls_back_to_one_message_at_a_time_and_only_the_culprit_is_dead_lettered():
    values = [article("a"), article("b", "boom"), article("c")]
    batched = Batched(build(None))
    # A batch of exactly the three: full at three, and a long wait so a busy machine cannot split it.
    result = run(values, batched.batch, single=batched, size=3, within_s=10)
    assert batched.calls == [3]
    assert result.out() == ["a", "c"]
    (letter,) = result.letters()
    assert (letter.reason, letter.offset, letter.original) == ("internal_error", 1, values[1])
    assert "Traceback" in letter.error
    assert (
        result.sample("news_messages_consumed_total", service="clean", topic=RAW_ARTICLES.name) == 3
    )
    assert (
        result.sample("news_handler_seconds_count", service="clean") == 3
    )  # each once, in the fallback


def test_fewer_messages_than_a_batch_are_flushed_within_the_wait():
    batched = Batched(build(None))
    result = run([article("a"), article("b")], batched.batch, size=100, within_s=0.2)
    assert result.out() == ["a", "b"] and sum(batched.calls) == 2
    assert result.took_s < 1.0  # not waiting for 100 messages


def test_a_batch_holds_at_most_max_bytes_of_values():
    values = [article(f"a{n}", "x" * 100) for n in range(5)]
    batched = Batched(build(None))
    result = run(values, batched.batch, size=5, within_s=0.2, max_bytes=2 * len(values[0]))
    assert result.out() == [f"a{n}" for n in range(5)]
    assert max(batched.calls) <= 2 and sum(batched.calls) == 5


@pytest.mark.parametrize(
    ("sizes", "limit", "parts"),
    [
        ([1, 2, 3], 10, [[1, 2, 3]]),
        ([4, 4, 4], 8, [[4, 4], [4]]),
        ([20, 1, 1], 8, [[20], [1, 1]]),  # one larger than the limit goes alone
        ([], 8, []),
    ],
)
def test_parts_cut_a_batch_by_bytes(sizes, limit, parts):
    items = [(n, b"x" * size) for n, size in enumerate(sizes)]
    assert [[len(v) for _, v in part] for part in _parts(items, limit)] == parts


def test_an_output_the_broker_refuses_dead_letters_its_input_alone():
    log: list = []
    app = FakeApp(log)
    app.topics[CLEAN_ARTICLES.name] = RefusingTopic(
        CLEAN_ARTICLES.name, log, {b"b"}, RecordTooLargeError("too large")
    )
    values = [article("a"), article("b"), article("c")]
    result = run(values, Batched(build(None)).batch, log=log, app=app)
    (letter,) = result.letters()
    assert (letter.reason, letter.original) == ("output_too_large", values[1])
    assert (
        result.sample("news_messages_produced_total", service="clean", topic=CLEAN_ARTICLES.name)
        == 2
    )


def test_a_send_failure_stops_the_worker_before_faust_acks_the_batch():
    log: list = []
    app = FakeApp(log)
    app.topics[CLEAN_ARTICLES.name] = RefusingTopic(
        CLEAN_ARTICLES.name, log, {b"b"}, KafkaConnectionError("gone")
    )

    def fatal(error: BaseException) -> None:  # exit_loudly exits here; the test only records
        log.append(("fatal", type(error)))

    values = [article("a"), article("b"), article("c")]
    result = run(values, Batched(build(None)).batch, log=log, app=app, fatal=fatal)
    stop = result.log.index(("fatal", KafkaConnectionError))
    assert not [e for e in result.log[:stop] if e[0] == "ack"]
    assert result.committable == [False] * 3  # held: had the worker gone on, nothing of it commits
    assert not app.topics["news.clean.dlq"].sent


# --- in the stage process ---------------------------------------------------------------------


@pytest.fixture
def isolated():
    handler = IsolatedHandler(
        BATCHED, ServiceSettings(), budget_s=1.0, start_timeout_s=60, batch_budget_s=1.0
    )
    handler.start()
    yield handler
    handler.close()


def test_the_child_answers_a_batch_message_by_message(isolated):
    a, rejected, invalid = isolated.call_batch([article("a"), article("r", "reject"), b"{not json"])
    assert [out.article_id for out in a.outputs] == ["a"]
    assert classify(rejected) == ("empty_after_cleaning", False)
    assert classify(invalid) == ("invalid_json", False)


@pytest.mark.parametrize(
    ("culprit", "reason"),
    [(b"spin", "timeout"), (b"die", "stage_crashed"), (article("b", "boom"), "internal_error")],
)
def test_a_batch_over_its_budget_or_crashing_falls_back_and_only_the_culprit_is_dead_lettered(
    isolated, culprit, reason
):
    values = [article("a"), culprit, article("c")]
    result = run(values, isolated.batch, single=isolated, size=4)
    assert result.out() == ["a", "c"]
    (letter,) = result.letters()
    assert (letter.reason, letter.offset, letter.original) == (reason, 1, culprit)
    assert result.committable == [True] * 3


def test_a_stage_that_declares_batches_without_a_batch_handler_cannot_start():
    handler = IsolatedHandler(NO_BATCH, ServiceSettings(), budget_s=1.0, start_timeout_s=60)
    with pytest.raises(StageUnavailable, match="no batch handler"):
        handler.start()


# --- the entities stage's handler -------------------------------------------------------------


def test_the_entities_batch_answers_what_each_article_alone_answers_and_bad_json_alone():
    nlp = spacy.blank("en")
    add_domain_ruler(nlp)
    handler = EntitiesHandler(EntitiesSettings(), nlp)
    texts = [
        "An Il-62 and an An-124 landed in Caracas.",
        "Two S-300 systems were moved.",
        "Nothing here.",
    ]
    values = [
        UniqueArticle(
            article_id=f"a{n}",
            text=t,
            ingested_at="2024-01-01T00:00:00Z",
            sentences=split_sentences(t),
        )
        .model_dump_json()
        .encode()
        for n, t in enumerate(texts)
    ]
    results = handler.batch([values[0], b"{not json", values[1], values[2]])
    assert classify(results[1]) == ("invalid_json", False)  # type: ignore[arg-type]
    batched = [results[0], results[2], results[3]]
    alone = [handler(value) for value in values]
    assert batched == alone
    (first,) = batched[0].outputs
    assert batched[0].counts == (Count("entities", ("AIRCRAFT",), 2),)
    assert isinstance(first, EnrichedArticle)
    assert {(e.text, e.label) for e in first.entities} >= {
        ("Il-62", "AIRCRAFT"),
        ("An-124", "AIRCRAFT"),
    }


# --- a stop in the middle of a batch ----------------------------------------------------------


@pytest.mark.parametrize("batches", [True, False])
def test_a_stop_in_the_middle_leaves_the_messages_in_hand_uncommitted(batches):
    """faust cancels the agent on stop, then closes ``take_events`` (whose cleanup acks its batch)
    and commits what is acked: the messages in hand must not be acked, so a restart replays them."""
    entered = []

    async def stuck(values):  # the stage process still working when the stop comes
        entered.append(len(values))
        await asyncio.Event().wait()

    async def stuck_one(value):
        return await stuck([value])

    step = Step(
        FakeApp([]),
        MISBEHAVING,
        stuck_one,
        ServiceMetrics("clean", CollectorRegistry()),  # type: ignore[arg-type]
        batch=stuck if batches else None,
        batching=Batching(size=4, within_s=0.05, max_bytes=1 << 20, budget_s=1.0),
    )
    faust_app, source = faust_source()

    async def agent(stream: faust.StreamT) -> None:
        await step(stream)

    wired = faust_app.agent(source, name="clean")(agent)

    async def main() -> list[faust.EventT]:
        async with wired.test_context() as test:
            events = [await deliver(test, article(f"a{n}"), b"k", n) for n in range(2)]
            started = time.perf_counter()
            while not entered:
                assert time.perf_counter() - started < 10
                await asyncio.sleep(0.005)
        await asyncio.sleep(0.1)  # let the closed generators run their cleanup
        return events

    events = asyncio.run(main())
    assert entered and not any(event.message.acked for event in events), [
        (e.message.offset, e.message.refcount, e.message.acked) for e in events
    ]
