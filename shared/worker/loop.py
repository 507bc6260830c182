"""The agent loop of a stage: decode → handler → send → ack → count, dead-lettering what it cannot use."""

from __future__ import annotations

import inspect
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import faust
from aiokafka.errors import (
    CorruptRecordException,
    MessageSizeTooLargeError,
    RecordTooLargeError,
)

from shared.errors import Reject, classify, make_dead_letter
from shared.metrics import ServiceMetrics
from shared.stage import Batching, BatchResult, Handled, Stage, as_handled, record_counts
from shared.topics import (
    ALERTS,
    DEAD_LETTERS,
    EVENT_ALERTS,
    EVENT_MENTIONS,
    TopicSpec,
    encode_output,
)
from shared.worker.isolate import LARGE_MESSAGE_BYTES, StageUnavailable, release_memory

log = logging.getLogger("newswatch")

# A message whose handling takes longer is logged: no accepted input should (docs/bad-input.md).
SLOW_MESSAGE_S = 2.0
# Exit status of a worker stopped by a failure that is not about one message (sysexits' EX_SOFTWARE).
EXIT_FATAL = 70

# Refusals of one record by the broker or the client: about this message, so it is dead-lettered.
_REFUSED_RECORD = (MessageSizeTooLargeError, RecordTooLargeError, CorruptRecordException)

# One output record: (topic, key, value bytes), as ``shared.topics.encode_output`` makes it.
Record = tuple[str, bytes | None, bytes]

# The outputs news_end_to_end_seconds times, by their topic: its ``output`` label.
END_TO_END = {ALERTS.name: "alert", EVENT_ALERTS.name: "event", EVENT_MENTIONS.name: "event"}


def declare(app: faust.App, spec: TopicSpec) -> faust.TopicT:
    """A faust topic for a registry entry: raw bytes both ways, created by ``newswatch topics``."""
    return app.topic(
        spec.name, key_serializer="raw", value_serializer="raw", partitions=spec.partitions
    )


class Step:
    """One stage's agent loop: decode → handler → send → count, dead-lettering what it cannot use.

    ``handler`` is a coroutine function (an isolated stage's child, ``shared.worker.isolate``) or a
    plain function run inline (a stage that writes a faust Table). Each output goes to its model's
    topic (``shared.topics.encode_output``) and the loop waits for the broker's acknowledgement
    before it takes the next message, so the offset never moves past a record that was not written:
    - an output larger than its topic takes is known before sending: the input is dead-lettered
      (``output_too_large``) with its bytes and nothing of it is published;
    - a send the broker refuses for this record (too large, invalid record) dead-letters the input;
    - any other send failure (broker gone past the producer's retries) is not about one message:
      ``fatal`` stops the worker loudly, nothing is committed for the message, and the supervisor
      restarts it to replay from the last commit.

    With ``batch`` and ``batching`` (a stage that takes batches, ``shared.stage.Batching``), the
    loop takes up to ``size`` messages or what arrived within ``within_s`` and calls ``batch``
    once; the rules above hold for each message of the batch (see ``batches``). Metrics stay per
    message: consumed, produced and dead letters as above; ``news_handler_seconds`` gets each
    message's equal share of the batch call; ``news_processing_seconds`` the batch's time from
    that call to the last acknowledgement, which is how long each of its messages waited. The
    handler's domain counts (``Handled.counts``) are counted once its outputs are written.
    """

    def __init__(
        self,
        app: faust.App,
        stage: Stage,
        handler: Callable[[bytes], Any],
        metrics: ServiceMetrics,
        *,
        fatal: Callable[[BaseException], None] | None = None,
        batch: Callable[[Sequence[bytes]], BatchResult | Awaitable[BatchResult]] | None = None,
        batching: Batching | None = None,
    ) -> None:
        self.stage = stage
        self.service = stage.service
        self.handler = handler
        # Batches only when there is a batch handler and a batch can hold more than one message.
        self.batch = batch if batching is not None and batching.size > 1 else None
        self.batching = batching
        self.metrics = metrics
        self.fatal = fatal
        self.topics = {spec.name: declare(app, spec) for spec in stage.produces}
        self.dlq = declare(app, DEAD_LETTERS[stage.service])

    async def __call__(self, stream: faust.StreamT) -> None:
        """The agent body: iterate raw events; one bad message never stops the stream."""
        if self.batch is not None:
            await self.batches(stream)
            return
        async for event in stream.events():
            try:
                await self.process(event)
            except Exception as error:
                if self.fatal is None:
                    raise
                self.fatal(error)

    async def batches(self, stream: faust.StreamT) -> None:
        """The agent body of a stage that takes batches: faust's ``take_events``.

        ``take_events`` (faust/streams.py) turns the stream's own acking off and acks the events
        of a batch in the ``finally`` around its ``yield``: when this loop asks for the next batch,
        i.e. after ``process_batch`` returned, which is after every output and dead letter of
        the batch was acknowledged by the broker. That ``finally`` also runs when the generator is
        closed without the batch done: on a stop, faust cancels the agent mid-batch, closes the
        generator and commits what is acked. So each message is held (``_hold``) from the start of
        its handling until its outputs are written (``_release``): faust's own ack cannot make
        it committable before, and a stop or a crash mid-batch leaves it to be replayed. A failure
        that is not about one message goes to ``fatal`` (``exit_loudly`` exits on the spot).
        """
        assert self.batching is not None
        # StreamT does not declare take_events; faust.Stream, which every agent gets, has it.
        take = stream.take_events  # type: ignore[attr-defined]
        async for events in take(self.batching.size, within=self.batching.within_s):
            try:
                await self.process_batch(events)
            except Exception as error:
                if self.fatal is None:
                    raise
                self.fatal(error)

    async def process_batch(self, events: Sequence[faust.EventT]) -> None:
        """Handle a batch: each message's outputs sent and acknowledged, or the message dead-lettered.

        The batch handler runs once per part of at most ``Batching.max_bytes``; a message it
        rejects alone is dead-lettered alone. If the call fails as a whole (raises, exceeds its
        budget, kills the stage process), each message of the part is handled alone, under the
        per-message budget, so only the culprit is dead-lettered.
        """
        assert self.batching is not None
        values = [event.value if event.value is not None else b"" for event in events]
        _hold(events)
        try:
            for part in _parts(list(zip(events, values, strict=True)), self.batching.max_bytes):
                await self._process_part(part)
        finally:
            if any(len(value) >= LARGE_MESSAGE_BYTES for value in values):
                release_memory()
        _release(events)

    async def _process_part(self, part: list[tuple[faust.EventT, bytes]]) -> None:
        for event, _ in part:
            self.metrics.consumed.labels(self.service, event.message.topic).inc()
        self.metrics.batch_size.labels(self.service, self.stage.step).observe(len(part))
        started = time.perf_counter()
        try:
            results = await self._call_batch([value for _, value in part])
        except StageUnavailable:
            raise  # the stage cannot run at all (model missing): not about these messages
        except Exception as error:  # noqa: BLE001 — the batch failed: each message alone finds the culprit
            # Its time is logged, not observed: news_handler_seconds gets one observation per
            # message, from the call that answered it.
            first, last = part[0][0].message, part[-1][0].message
            log.warning(
                "%s: a batch of %d (%s[%d]@%d..%d) failed after %.1f s (%s: %s); handling each alone",
                self.service,
                len(part),
                first.topic,
                first.partition,
                first.offset,
                last.offset,
                time.perf_counter() - started,
                error.__class__.__name__,
                str(error)[:300],
            )
            for event, value in part:
                await self._process(event, value, counted=True)
            return
        # The handler's time is shared equally by the batch's messages: news_handler_seconds
        # stays the stage's work per message (its sum the handler's total time).
        share = (time.perf_counter() - started) / len(part)
        for event, _ in part:
            self._handled(started, event.message, took=share)
        # Every output of the batch is sent before any acknowledgement is awaited.
        sending: list[tuple[faust.EventT, bytes, Handled, list[Record], list[Any]]] = []
        for (event, value), result in zip(part, results, strict=True):
            if isinstance(result, Exception):  # rejected alone, as the batch handler said
                await self.dead_letter(result, value, event)
                continue
            try:
                handled = as_handled(result)
                records = [encode_output(out) for out in handled.outputs]
            except Reject as error:
                await self.dead_letter(error, value, event)
                continue
            sending.append((event, value, handled, records, await self._send(records)))
        for event, value, handled, records, futures in sending:
            await self._acknowledged(event, value, handled, records, futures)
        # Each message's latency is the batch's: from the handler's start to the last acknowledgement.
        took = time.perf_counter() - started
        for _ in part:
            self.metrics.processing.observe(took)

    async def _call_batch(self, values: list[bytes]) -> BatchResult:
        assert self.batch is not None
        results = self.batch(values)
        if inspect.isawaitable(results):
            results = await results
        if len(results) != len(values):
            raise RuntimeError(
                f"the batch handler answered {len(results)} of {len(values)} messages"
            )
        return results

    async def process(self, event: faust.EventT) -> None:
        """Handle one event: outputs sent and acknowledged, or the input dead-lettered."""
        value: bytes = event.value if event.value is not None else b""
        _hold([event])
        try:
            await self._process(event, value)
        finally:
            if len(value) >= LARGE_MESSAGE_BYTES:
                release_memory()
        _release([event])

    async def _process(self, event: faust.EventT, value: bytes, *, counted: bool = False) -> None:
        message = event.message
        if not counted:
            self.metrics.consumed.labels(self.service, message.topic).inc()
        with self.metrics.processing.time():
            started = time.perf_counter()
            try:
                result = self.handler(value)
                if inspect.isawaitable(result):
                    result = await result
                handled = as_handled(result)
                records = [encode_output(out) for out in handled.outputs]
            except StageUnavailable:
                raise  # the stage cannot run at all (model missing): not about this message
            except Exception as error:  # noqa: BLE001 — every per-message failure is dead-lettered
                self._handled(started, message)
                await self.dead_letter(error, value, event)
                return
            self._handled(started, message)
            await self._acknowledged(event, value, handled, records, await self._send(records))

    async def _send(self, records: Sequence[Record]) -> list[Any]:
        """Send an input's records; the futures of their acknowledgements."""
        return [await self.topics[topic].send(key=key, value=data) for topic, key, data in records]

    async def _acknowledged(
        self,
        event: faust.EventT,
        value: bytes,
        handled: Handled,
        records: Sequence[Record],
        futures: Sequence[Any],
    ) -> None:
        """The one publish tail: wait for an input's acknowledgements, then count it (or dead-letter it)."""
        try:
            for future in futures:
                await future
        except _REFUSED_RECORD as error:
            # Already-written outputs of this input stay (their keys make a replay harmless).
            await self.dead_letter(
                Reject("output_too_large", f"the broker refused an output: {error}"), value, event
            )
            return
        record_counts(self.metrics, self.stage, handled.counts)
        for topic, _, _ in records:
            self.metrics.produced.labels(self.service, topic).inc()
        self._end_to_end(records, handled.outputs, value)

    def _end_to_end(self, records: Sequence[Record], outputs: Sequence[Any], value: bytes) -> None:
        """Observe ``news_end_to_end_seconds`` for each alert or event record just acknowledged.

        The clock starts at the article's ``ingested_at``: the output's own (an alert carries it),
        else the input's (an event record is made of an alert, which carries it).
        """
        start: datetime | None = None
        for (topic, _, _), output in zip(records, outputs, strict=True):
            kind = END_TO_END.get(topic)
            if kind is None:
                continue
            ingested = getattr(output, "ingested_at", None) or start or _ingested_at(value)
            if ingested is None:
                continue  # an alert made before the field existed
            if ingested.tzinfo is None:
                ingested = ingested.replace(tzinfo=UTC)
            start = ingested
            took = (datetime.now(UTC) - ingested).total_seconds()
            self.metrics.end_to_end.labels(kind).observe(max(0.0, took))

    def _handled(self, started: float, message: Any, *, took: float | None = None) -> None:
        took = time.perf_counter() - started if took is None else took
        self.metrics.handling.observe(took)
        if took >= SLOW_MESSAGE_S:
            log.warning(
                "%s: %s[%d]@%d took %.1f s",
                self.service,
                message.topic,
                message.partition,
                message.offset,
                took,
            )

    async def dead_letter(self, error: BaseException, value: bytes, event: faust.EventT) -> None:
        """Send one unusable message to the service's DLQ with the reason, wait for it, and count it."""
        reason, is_bug = classify(error)
        message = event.message
        key = event.key if isinstance(event.key, bytes) else None
        if is_bug:
            log.error(
                "%s: internal error on %s[%d]@%d",
                self.service,
                message.topic,
                message.partition,
                message.offset,
                exc_info=error,
            )
        else:
            log.warning(
                "%s: dead-lettered %s[%d]@%d: %s",
                self.service,
                message.topic,
                message.partition,
                message.offset,
                str(error)[:500],
            )
        letter = make_dead_letter(
            service=self.service,
            reason=reason,
            error=error,
            value=value,
            key=key,
            source_topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            failed_at=datetime.now(UTC),
            with_traceback=is_bug,
        )
        # A dead letter that cannot be written is not about the message: it propagates (fatal).
        await (await self.dlq.send(key=key, value=letter.to_bytes()))
        self.metrics.dead_letters.labels(self.service, reason).inc()
        self.metrics.produced.labels(self.service, DEAD_LETTERS[self.service].name).inc()


def exit_loudly(error: BaseException) -> None:
    """Stop the worker at once: a failure that is not about one message (the broker is gone).

    A hard exit, not faust's orderly stop: that stop flushes to the very broker that is failing and
    can hang for minutes (issue 7). Nothing is committed for the message in hand; the supervisor
    (``newswatch run``, or the orchestrator) restarts the worker, which replays from its last commit.
    """
    log.critical("worker stops: %s: %s", error.__class__.__name__, error, exc_info=error)
    logging.shutdown()
    os._exit(EXIT_FATAL)


def _ingested_at(value: bytes) -> datetime | None:
    """The ``ingested_at`` of a JSON input (an alert), None when it has none or is not JSON."""
    try:
        data = json.loads(value)
        stamp = data.get("ingested_at") if isinstance(data, dict) else None
        moment = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _hold(events: Sequence[faust.EventT]) -> None:
    """Take a reference on each event's message: faust marks a message committable only once
    every holder has acked it (``Message.ack``: its refcount down to 0)."""
    for event in events:
        event.message.incref()


def _release(events: Sequence[faust.EventT]) -> None:
    """Drop ``_hold``'s reference, once the messages' outputs are written (or dead-lettered)."""
    for event in events:
        event.ack()


def _parts(items: list[tuple[Any, bytes]], max_bytes: int) -> Iterator[list[tuple[Any, bytes]]]:
    """Consecutive runs of ``items`` whose values add up to at most ``max_bytes`` (one larger goes alone).

    Bytes stand for the stage's work, so a batch of large messages stays within the batch budget.
    """
    part: list[tuple[Any, bytes]] = []
    size = 0
    for item in items:
        if part and size + len(item[1]) > max_bytes:
            yield part
            part, size = [], 0
        part.append(item)
        size += len(item[1])
    if part:
        yield part
