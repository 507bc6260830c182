"""faust glue every service shares: the app factory, topic declaration, and the decode → core → send → count loop (one message or a batch at a time)."""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faust
from aiokafka.errors import (
    CorruptRecordException,
    MessageSizeTooLargeError,
    RecordTooLargeError,
)
from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from faust.transport.drivers import aiokafka as faust_kafka
from faust.types import TP
from faust.utils.functional import consecutive_numbers
from prometheus_client import REGISTRY

from shared.errors import Reject, classify, make_dead_letter
from shared.isolate import LARGE_MESSAGE_BYTES, IsolatedHandler, StageUnavailable, release_memory
from shared.metrics import DEFAULT_PORTS, ServiceMetrics, serve_metrics
from shared.schemas import Message
from shared.security import faust_credentials, kafka_python_kwargs
from shared.settings import ServiceSettings
from shared.stage import BatchHandler, Batching, BatchResult, Stage
from shared.topics import DEAD_LETTERS, MAX_MESSAGE_BYTES, TopicSpec, encode_output

log = logging.getLogger("newswatch")

# A message whose handling takes longer is logged: no accepted input should (README, "Bad input").
SLOW_MESSAGE_S = 2.0
# Exit status of a worker stopped by a failure that is not about one message (sysexits' EX_SOFTWARE).
EXIT_FATAL = 70


# How long a partition's commit may wait on a message that later ones were acked past before the
# worker reads again from it (see StrictCommitConsumer), and how long before it tries once more.
HOLE_GRACE_S = 5.0
HOLE_RETRY_S = 60.0
_clock = time.monotonic  # the holes' clock (tests move it)


class StrictCommitConsumer(faust_kafka.Consumer):
    """faust's Kafka consumer, committing a partition only up to its first message not acked, and reading that message again.

    faust 0.15.3 commits past the first message after the last commit when that one alone is not
    acked (``_new_offset`` lets ``min(acked) - committed == 1`` through: faust-streaming #606), and
    counts the "gaps" its fetch loop records (an offset more than one past the last it delivered)
    as acked. Both lose a message that faust itself dropped: at the end of a recovery it can hand an
    agent messages fetched before its seek to the committed offset, clear them from the agent's
    queue (``flow_control.resume()``), and not fetch them again (its read offset has moved on). Our
    topics are neither compacted nor transactional, so every offset holds a message: the commit
    waits for it instead, and right after faust cleared the queues the partitions are sought back
    to their committed offsets (``resume_flow``), so what was cleared is fetched again.

    Should a message still be dropped, the agent, which handles a partition's messages in order,
    acks later ones while the one at the committed offset is not. After ``HOLE_GRACE_S`` the consumer seeks
    the partition back to it (the messages after it are handled again: at-least-once, and every
    stage's outputs are idempotent by key), logging a WARNING; once more every ``HOLE_RETRY_S`` if
    that did not help, so a worker never stalls silently. Records deleted by retention before the
    group read them are the one real hole: the commit moves on to the earliest offset, with a
    WARNING.
    """

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        return None  # a recorded gap would be committed as if acked (see the class docstring)

    def resume_flow(self) -> None:
        """faust calls this right after ``flow_control.resume()`` has cleared the agents' queues (the
        end of a recovery): seek back to the committed offsets, so that what was cleared is fetched
        and handled, not skipped (what had been handled already is handled again: at-least-once)."""
        super().resume_flow()
        if self.assignment():
            asyncio.ensure_future(self._seek_again())

    async def _seek_again(self) -> None:
        log.info("reading again from the committed offsets: faust cleared its agents' queues")
        await self.perform_seek()

    def _new_offset(self, tp: TP) -> int | None:
        acked = self._acked[tp]
        if not acked:
            return None
        acked.sort()
        committed = self._committed_offset[tp]
        if committed is not None and acked[0] > committed:
            self._hole(tp, committed)
            return None  # the message at ``committed`` is not acked (yet, or it was dropped)
        run = next(consecutive_numbers(acked))
        del acked[: len(run)]
        self._acked_index[tp].difference_update(run)
        return run[-1] + 1

    def _hole(self, tp: TP, offset: int) -> None:
        holes: dict[TP, tuple[int, float, float | None]] = self.__dict__.setdefault("_newswatch_holes", {})
        now = _clock()
        seen = holes.get(tp)
        if seen is None or seen[0] != offset:
            holes[tp] = (offset, now, None)  # (offset, first seen, last rewound)
            return
        _, first, rewound = seen
        if now - first < HOLE_GRACE_S or (rewound is not None and now - rewound < HOLE_RETRY_S):
            return
        holes[tp] = (offset, first, now)
        asyncio.ensure_future(self._rewind(tp, offset))

    async def _rewind(self, tp: TP, offset: int) -> None:
        earliest = (await self.earliest_offsets(tp)).get(tp)
        if earliest is not None and earliest > offset:
            log.warning("%s[%d]: offsets %d to %d were deleted (retention) before this group read them; "
                        "committing on from %d", tp.topic, tp.partition, offset, earliest - 1, earliest)
            self._committed_offset[tp] = earliest
            return
        log.warning("%s[%d]@%d was dropped unprocessed (faust cleared it from the agent's queue after a "
                    "recovery); reading the partition again from it", tp.topic, tp.partition, offset)
        await self.seek(tp, offset)


class _Transport(faust_kafka.Transport):
    Consumer = StrictCommitConsumer


def make_app(service: str, settings: ServiceSettings, **overrides: Any) -> faust.App:
    """A faust app whose id (= consumer group) is the service word, values read as raw bytes.

    Raw bytes, because faust's own decode-error path logs and commits past a bad message; we
    decode in the agent so a bad message becomes a dead letter instead (STYLE.md §4).
    """
    conf: dict[str, Any] = {
        "broker": [f"kafka://{host}" for host in settings.kafka_bootstrap.split(",")],
        "broker_credentials": faust_credentials(settings),  # SASL/TLS; None is PLAINTEXT
        "key_serializer": "raw",
        "value_serializer": "raw",
        # /metrics is served by prometheus-client on its own port; faust's web server would
        # otherwise listen on 0.0.0.0:6066 (notes/faust-lessons.md).
        "web_enabled": False,
        "web_host": "127.0.0.1",
        "store": settings.table_store,
        "datadir": f"{settings.data_dir}/{service}{settings.group_suffix}",
        "broker_session_timeout": settings.session_timeout_s,
        "broker_heartbeat_interval": min(3.0, settings.session_timeout_s / 3),
        "consumer_auto_offset_reset": "earliest",
        "topic_partitions": settings.topic_partitions,
        "topic_replication_factor": 1,
        "producer_acks": -1,
        # Dead letters carry the original bytes of inputs up to MAX_MESSAGE_BYTES (shared.topics).
        "producer_max_request_size": 2 * MAX_MESSAGE_BYTES,
        "consumer_max_fetch_size": 2 * MAX_MESSAGE_BYTES,
    }
    conf.update(overrides)
    Path(conf["datadir"]).mkdir(parents=True, exist_ok=True)  # faust does not create it
    app = faust.App(f"{service}{settings.group_suffix}", **conf)
    # Commits that never pass a message not acked (StrictCommitConsumer); the broker URL is kafka://.
    app.transport = _Transport(app.conf.broker_consumer, app)
    # faust's own sensor (per-topic throughput, send latency, rebalances), into the same registry
    # that /metrics serves; "faust" prefix so every service's series share one name.
    app.monitor = PrometheusMonitor(metrics=FaustMetrics.create(REGISTRY, "faust"))
    return app


def declare(app: faust.App, spec: TopicSpec) -> faust.TopicT:
    """A faust topic for a registry entry: raw bytes both ways, created by ``newswatch topics``."""
    return app.topic(spec.name, key_serializer="raw", value_serializer="raw", partitions=spec.partitions)


def start_metrics(service: str, settings: ServiceSettings) -> int:
    """Serve the process's /metrics (the default registry) on the service's port; returns the port."""
    port = serve_metrics(settings.metrics_host, settings.metrics_port or DEFAULT_PORTS[service])
    log.info("%s: metrics on http://%s:%d/metrics", service, settings.metrics_host, port)
    return port


class Step:
    """One service's agent loop: decode → handler → send → count, dead-lettering what it cannot use.

    ``handler`` is a coroutine function (an isolated stage's child, ``shared.isolate``) or a plain
    function run inline (a stage that writes a faust Table). Each output goes to its model's topic
    (``shared.topics.encode_output``) and the loop waits for the broker's acknowledgement before it
    takes the next message, so the offset never moves past a record that was not written:
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
    that call to the last acknowledgement, which is how long each of its messages waited.
    """

    def __init__(
        self,
        app: faust.App,
        service: str,
        handler: Callable[[bytes], Any],
        outputs: Sequence[TopicSpec],
        metrics: ServiceMetrics,
        *,
        observe: Callable[[ServiceMetrics, Sequence[Message]], None] | None = None,
        fatal: Callable[[BaseException], None] | None = None,
        batch: Callable[[Sequence[bytes]], BatchResult | Awaitable[BatchResult]] | None = None,
        batching: Batching | None = None,
    ) -> None:
        self.service = service
        self.handler = handler
        # Batches only when there is a batch handler and a batch can hold more than one message.
        self.batch = batch if batching is not None and batching.size > 1 else None
        self.batching = batching
        self.metrics = metrics
        self.observe = observe
        self.fatal = fatal
        self.specs = {spec.name: spec for spec in outputs}
        self.topics = {spec.name: declare(app, spec) for spec in outputs}
        self.dlq = declare(app, DEAD_LETTERS[service])

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
        assert self.batch is not None
        for event, _ in part:
            self.metrics.consumed.labels(self.service, event.message.topic).inc()
        started = time.perf_counter()
        try:
            results = self.batch([value for _, value in part])
            if inspect.isawaitable(results):
                results = await results
            if len(results) != len(part):
                raise RuntimeError(f"the batch handler answered {len(results)} of {len(part)} messages")
        except StageUnavailable:
            raise  # the stage cannot run at all (model missing): not about these messages
        except Exception as error:  # noqa: BLE001 — the batch failed: each message alone finds the culprit
            # Its time is logged, not observed: news_handler_seconds gets one observation per
            # message, from the call that answered it.
            first, last = part[0][0].message, part[-1][0].message
            log.warning("%s: a batch of %d (%s[%d]@%d..%d) failed after %.1f s (%s: %s); handling each alone",
                        self.service, len(part), first.topic, first.partition, first.offset, last.offset,
                        time.perf_counter() - started, error.__class__.__name__, str(error)[:300])
            for event, value in part:
                await self._process(event, value, counted=True)
            return
        # The handler's time is shared equally by the batch's messages: news_handler_seconds
        # stays the stage's work per message (its sum the handler's total time).
        share = (time.perf_counter() - started) / len(part)
        for event, _ in part:
            self._handled(started, event.message, took=share)
        sending: list[tuple[faust.EventT, bytes, Sequence[Message], list[str], list[Any]]] = []
        for (event, value), result in zip(part, results, strict=True):
            if isinstance(result, Exception):
                await self.dead_letter(result, value, event)
                continue
            try:
                records = [self._record(out) for out in result]
            except Reject as error:
                await self.dead_letter(error, value, event)
                continue
            # Every output of the batch is sent before any acknowledgement is awaited.
            futures = [await self.topics[topic].send(key=key, value=data) for topic, key, data in records]
            sending.append((event, value, result, [topic for topic, _, _ in records], futures))
        for event, value, outputs, topics, futures in sending:
            try:
                for future in futures:
                    await future
            except _REFUSED_RECORD as error:
                await self.dead_letter(Reject("output_too_large", f"the broker refused an output: {error}"),
                                       value, event)
                continue
            if self.observe is not None:
                self.observe(self.metrics, outputs)
            for topic in topics:
                self.metrics.produced.labels(self.service, topic).inc()
        # Each message's latency is the batch's: from the handler's start to the last acknowledgement.
        took = time.perf_counter() - started
        for _ in part:
            self.metrics.processing.observe(took)

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
                outputs = self.handler(value)
                if inspect.isawaitable(outputs):
                    outputs = await outputs
                records = [self._record(out) for out in outputs]
            except StageUnavailable:
                raise  # the stage cannot run at all (model missing): not about this message
            except Exception as error:  # noqa: BLE001 — every per-message failure is dead-lettered
                self._handled(started, message)
                await self.dead_letter(error, value, event)
                return
            self._handled(started, message)
            pending = [await self.topics[topic].send(key=key, value=data) for topic, key, data in records]
            try:
                for future in pending:
                    await future
            except _REFUSED_RECORD as error:
                # Already-written outputs of this input stay (their keys make a replay harmless).
                await self.dead_letter(Reject("output_too_large", f"the broker refused an output: {error}"),
                                       value, event)
                return
            if self.observe is not None:
                self.observe(self.metrics, outputs)
            for topic, _, _ in records:
                self.metrics.produced.labels(self.service, topic).inc()

    def _handled(self, started: float, message: Any, *, took: float | None = None) -> None:
        took = time.perf_counter() - started if took is None else took
        self.metrics.handling.observe(took)
        if took >= SLOW_MESSAGE_S:
            log.warning("%s: %s[%d]@%d took %.1f s", self.service, message.topic, message.partition,
                        message.offset, took)

    def _record(self, out: Message) -> tuple[str, bytes | None, bytes]:
        # The same encoding and size check as `newswatch process` (one output path for both).
        return encode_output(out)

    async def dead_letter(self, error: BaseException, value: bytes, event: faust.EventT) -> None:
        """Send one unusable message to the service's DLQ with the reason, wait for it, and count it."""
        reason, is_bug = classify(error)
        message = event.message
        key = event.key if isinstance(event.key, bytes) else None
        if is_bug:
            log.error("%s: internal error on %s[%d]@%d", self.service, message.topic,
                      message.partition, message.offset, exc_info=error)
        else:
            log.warning("%s: dead-lettered %s[%d]@%d: %s", self.service, message.topic,
                        message.partition, message.offset, str(error)[:500])
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


def build_worker(stage: Stage, stage_ref: str, settings: ServiceSettings, *more: tuple[Stage, str]) -> faust.App:
    """The faust app of a service: one agent per stage, with its table, the isolated handler or the inline one.

    ``stage_ref`` (``module:NAME``) lets the isolated child import the same stage object. ``more``
    are the service's further stages with their refs (alerts' events), run in the same app: one
    consumer group, one /metrics, one dead-letter topic.
    """
    app = make_app(stage.service, settings)
    metrics = ServiceMetrics(stage.service)
    for each, ref in [(stage, stage_ref), *more]:
        if each.service != stage.service:
            raise ValueError(f"{each.step} belongs to {each.service}, not {stage.service}")
        _add_agent(app, each, ref, settings, metrics)
    return app


def _add_agent(app: faust.App, stage: Stage, stage_ref: str, settings: ServiceSettings,
               metrics: ServiceMetrics) -> None:
    batching = stage.batching(settings) if stage.batching is not None else None
    handler: Callable[[bytes], Any]
    batch: Callable[[Sequence[bytes]], Any] | None = None
    if stage.isolated:
        isolated = IsolatedHandler(stage_ref, settings, budget_s=settings.stage_budget_s,
                                   start_timeout_s=settings.stage_start_timeout_s,
                                   batch_budget_s=batching.budget_s if batching else None)
        handler = isolated
        batch = isolated.batch if batching else None

        async def start_stage() -> None:  # before the first message, off the event loop
            await isolated.astart()

        app.task(start_stage)
    else:
        store = app.Table(stage.table, partitions=stage.consumes.partitions) if stage.table else None
        handler = stage.build(settings, store, metrics)
        if batching is not None:
            if not isinstance(handler, BatchHandler):
                raise TypeError(f"{stage.service} takes batches but its build returned no batch handler")
            batch = handler.batch
    step = Step(app, stage.service, handler, stage.produces, metrics, observe=stage.observe,
                fatal=exit_loudly, batch=batch, batching=batching)

    async def agent(stream: faust.StreamT) -> None:
        await step(stream)

    agent.__doc__ = f"{stage.step}: {stage.consumes.name} → " + ", ".join(s.name for s in stage.produces)
    app.agent(declare(app, stage.consumes), name=stage.step)(agent)


# Refusals of one record by the broker or the client: about this message, so it is dead-lettered.
_REFUSED_RECORD = (MessageSizeTooLargeError, RecordTooLargeError, CorruptRecordException)


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


def run_worker(app: faust.App, service: str, settings: ServiceSettings, specs: Sequence[TopicSpec]) -> None:
    """Entry point of ``python -m services.<svc>.app worker``: topics, /metrics, then faust's CLI.

    Topics are created explicitly (the broker's auto-create is off), so a service started alone
    still finds its topics with the partition counts we mean.

    Two guards for a broker that goes away (shared.lifecycle): connection errors of the Kafka
    clients are logged once per kind and then at most once per ``run_log_repeat_s`` with a count;
    and once a stop begins (SIGTERM, SIGINT, or a crash), a watchdog exits the process hard if faust
    has not finished within ``run_stop_timeout_s``: its orderly stop flushes to the broker and,
    with the broker gone, hangs for good while ignoring further signals.
    """
    from shared.admin import ensure_topics  # kafka-python admin; only needed when a worker starts
    from shared.lifecycle import ConnectionErrorFilter, arm_stop_watchdog
    from shared.settings import RunSettings

    bounds = RunSettings()
    quiet = ConnectionErrorFilter(every_s=bounds.run_log_repeat_s)
    logging.basicConfig(level=settings.log_level.upper(),
                        format=f"%(asctime)s %(levelname)s service={service} %(name)s: %(message)s")
    for handler in logging.root.handlers:
        handler.addFilter(quiet)

    class Worker(faust.Worker):
        def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
            super().on_setup_root_logger(logger, level)
            for handler in logger.handlers:  # faust replaces the root handlers with its own
                handler.addFilter(quiet)

        async def stop(self) -> None:
            arm_stop_watchdog(bounds.run_stop_timeout_s, service)
            await super().stop()

    app.conf.Worker = Worker  # type: ignore[assignment]  # faust types it as a special form
    ensure_topics(settings.kafka_bootstrap, [*specs, DEAD_LETTERS[service]], settings.topic_partitions,
                  security=kafka_python_kwargs(settings))
    start_metrics(service, settings)
    app.main()
