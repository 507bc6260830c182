"""The offsets a worker commits, without a broker: never past a consumed message that was not acked, and a dropped message read again.

A worker's consumer (``shared.worker.app.make_app``) commits, per partition, up to the first message
not yet acked. A message faust delivered and then dropped without acking (on a recovery it clears
the agents' queues after seeking back, and may not fetch what it cleared again) must hold the
commit, so that a restart replays it; committing past it loses it: in a CI rehearsal of
tests/integration/test_supervision.py, clean-article offset 9 never reached dedup after a kill -9
and the worker committed 9, then 115.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import faust
import pytest
from faust.transport.consumer import Consumer
from faust.types import TP

from shared.settings import ServiceSettings
from shared.topics import CLEAN_ARTICLES
from shared.worker.app import make_app

TOPIC = CLEAN_ARTICLES.name
PART = TP(TOPIC, 0)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[faust.App]:
    """dedup's app as its worker makes it (not started: nothing connects); once, because it
    registers faust's metrics in the process's registry."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        app = make_app("dedup", ServiceSettings(data_dir=str(tmp_path_factory.mktemp("faust"))))
        # What an agent subscribing to the topic does when it starts: its messages are acked.
        app.topics.add(app.topic(TOPIC))
        loop.run_until_complete(
            app.topics._update_indices()
        )  # as the conductor, when it subscribes
        assert app.topics.acks_enabled_for(TOPIC)
        yield app
    finally:
        asyncio.set_event_loop(None)
        loop.close()


@pytest.fixture
def consumer(app: faust.App) -> Consumer:
    """A consumer of the app, made as ``app.consumer`` is (fresh offsets bookkeeping each test)."""
    return app._new_consumer()


def committed_at(consumer: Consumer, offset: int) -> None:
    """Where the partition's committed offset stands (the next offset to read), as after a seek to it."""
    consumer._committed_offset[PART] = offset


def ack(consumer: Consumer, *offsets: int) -> None:
    """Ack messages the way a stream does when it is done with them (``Consumer.ack``)."""
    for offset in offsets:
        message = consumer._to_message(PART, _Record(offset))
        assert consumer.ack(message)


def commit_round(consumer: Consumer) -> int | None:
    """The offset one commit would write for the partition (None: nothing), recorded as committed
    as ``Consumer._commit_offsets`` does."""
    offsets = consumer._filter_committable_offsets({PART})
    consumer._committed_offset.update(offsets)
    return offsets.get(PART)


class _Record:
    """The fields of an aiokafka ConsumerRecord that faust's ``_to_message`` reads."""

    def __init__(self, offset: int) -> None:
        self.topic, self.partition, self.offset = TOPIC, 0, offset
        self.timestamp, self.timestamp_type, self.headers = 0, 0, []
        self.key, self.value, self.checksum = b"k", b"{}", None
        self.serialized_key_size, self.serialized_value_size = 1, 2


def test_the_commit_stops_below_one_message_that_was_never_acked(consumer):
    committed_at(consumer, 8)
    ack(consumer, 8, 10, 11, 12)  # 9 delivered, never acked
    assert commit_round(consumer) == 9
    # faust 0.15.3 lets this one through (faust-streaming #606): 10 - 9 is not "> 1".
    assert commit_round(consumer) is None
    assert commit_round(consumer) is None
    ack(consumer, 9)  # once it is acked (a replay after a restart), everything after it goes
    assert commit_round(consumer) == 13


def test_a_gap_the_fetch_loop_recorded_is_not_taken_as_acked(consumer):
    # faust's fetch loop records a "gap" when an offset follows the last one it delivered by more
    # than one, and counts it as acked at the next commit. After a recovery's seek back to 8, the
    # rest of a batch fetched before the seek goes on (10 next), so 9, dropped from the agent's
    # queue and never acked, would be inside it.
    committed_at(consumer, 8)
    asyncio.get_event_loop().run_until_complete(consumer._add_gap(PART, 9, 10))
    ack(consumer, 8, 10, 11)
    assert commit_round(consumer) == 9
    assert commit_round(consumer) is None
    ack(consumer, 9)
    assert commit_round(consumer) == 12


def test_a_partition_never_committed_commits_its_consecutive_acks(consumer):
    ack(consumer, 0, 1, 2)
    assert commit_round(consumer) == 3
    ack(consumer, 3, 5)
    assert commit_round(consumer) == 4
    assert commit_round(consumer) is None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    import shared.worker.commits

    now = Clock()
    monkeypatch.setattr(shared.worker.commits, "_clock", now)
    return now


def fake_partition(consumer: Consumer, earliest: int) -> list[tuple[TP, int]]:
    """The broker side of a rewind: the partition's earliest offset, and the seeks asked for (returned)."""
    seeks: list[tuple[TP, int]] = []

    async def seek(tp: TP, offset: int) -> None:
        seeks.append((tp, offset))

    async def earliest_offsets(*tps: TP) -> dict[TP, int]:
        return dict.fromkeys(tps, earliest)

    consumer.seek, consumer.earliest_offsets = seek, earliest_offsets  # type: ignore[method-assign]
    return seeks


def test_a_message_dropped_unprocessed_is_read_again_after_the_grace_and_then_committed(
    consumer, clock, app
):
    from shared.worker.commits import HOLE_GRACE_S, HOLE_RETRY_S

    seeks = fake_partition(consumer, earliest=0)
    loop = asyncio.get_event_loop()
    committed_at(consumer, 9)
    ack(consumer, 10, 11)
    assert commit_round(consumer) is None  # the hole is seen
    clock.now += HOLE_GRACE_S / 2
    assert commit_round(consumer) is None
    loop.run_until_complete(asyncio.sleep(0))
    assert seeks == []  # within the grace: it may still come
    clock.now += HOLE_GRACE_S
    assert commit_round(consumer) is None
    loop.run_until_complete(asyncio.sleep(0.01))
    assert seeks == [(PART, 9)]  # read again from the hole
    clock.now += 1
    assert commit_round(consumer) is None
    loop.run_until_complete(asyncio.sleep(0.01))
    assert seeks == [(PART, 9)]  # once, until the retry interval
    clock.now += HOLE_RETRY_S
    commit_round(consumer)
    loop.run_until_complete(asyncio.sleep(0.01))
    assert seeks == [(PART, 9), (PART, 9)]
    ack(consumer, 9)  # the replay: the dropped message, then 10 and 11 again, already acked
    assert not any(consumer.ack(consumer._to_message(PART, _Record(n))) for n in (10, 11))
    assert commit_round(consumer) == 12


def test_records_deleted_by_retention_before_the_group_read_them_are_committed_past(
    consumer, clock, app
):
    from shared.worker.commits import HOLE_GRACE_S

    seeks = fake_partition(consumer, earliest=50)
    loop = asyncio.get_event_loop()
    committed_at(consumer, 9)  # the group's last commit, long since deleted
    ack(consumer, 50, 51)
    assert commit_round(consumer) is None
    clock.now += HOLE_GRACE_S + 1
    assert commit_round(consumer) is None
    loop.run_until_complete(asyncio.sleep(0.01))
    assert seeks == []
    assert commit_round(consumer) == 52


def test_when_faust_resumes_the_flow_after_clearing_its_queues_the_partitions_are_sought_back(
    consumer, app
):
    seeks: list[str] = []

    async def perform_seek() -> None:
        seeks.append("committed")

    consumer.perform_seek = perform_seek
    consumer.assignment = lambda: {PART}
    consumer.resume_flow()  # what the end of a recovery calls right after flow_control.resume()
    asyncio.get_event_loop().run_until_complete(asyncio.sleep(0.01))
    assert seeks == ["committed"] and consumer.flow_active
