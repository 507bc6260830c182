"""faust glue every service shares: the app factory, topic declaration, and the decode → core → send → count loop."""

from __future__ import annotations

import inspect
import logging
import os
import time
from collections.abc import Callable, Sequence
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
from prometheus_client import REGISTRY

from shared.errors import Reject, classify, make_dead_letter
from shared.isolate import LARGE_MESSAGE_BYTES, IsolatedHandler, StageUnavailable, release_memory
from shared.metrics import DEFAULT_PORTS, ServiceMetrics, serve_metrics
from shared.schemas import Message
from shared.security import faust_credentials, kafka_python_kwargs
from shared.settings import ServiceSettings
from shared.stage import Stage
from shared.topics import DEAD_LETTERS, MAX_MESSAGE_BYTES, TopicSpec, topic_for

log = logging.getLogger("newswatch")

# A message whose handling takes longer is logged: no accepted input should (README, "Bad input").
SLOW_MESSAGE_S = 2.0
# Exit status of a worker stopped by a failure that is not about one message (sysexits' EX_SOFTWARE).
EXIT_FATAL = 70


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
    (``shared.topics.topic_for``) and the loop waits for the broker's acknowledgement before it
    takes the next message, so the offset never moves past a record that was not written:
    - an output larger than its topic takes is known before sending: the input is dead-lettered
      (``output_too_large``) with its bytes and nothing of it is published;
    - a send the broker refuses for this record (too large, invalid record) dead-letters the input;
    - any other send failure (broker gone past the producer's retries) is not about one message:
      ``fatal`` stops the worker loudly, nothing is committed for the message, and the supervisor
      restarts it to replay from the last commit.
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
    ) -> None:
        self.service = service
        self.handler = handler
        self.metrics = metrics
        self.observe = observe
        self.fatal = fatal
        self.specs = {spec.name: spec for spec in outputs}
        self.topics = {spec.name: declare(app, spec) for spec in outputs}
        self.dlq = declare(app, DEAD_LETTERS[service])

    async def __call__(self, stream: faust.StreamT) -> None:
        """The agent body: iterate raw events; one bad message never stops the stream."""
        async for event in stream.events():
            try:
                await self.process(event)
            except Exception as error:
                if self.fatal is None:
                    raise
                self.fatal(error)

    async def process(self, event: faust.EventT) -> None:
        """Handle one event: outputs sent and acknowledged, or the input dead-lettered."""
        value: bytes = event.value if event.value is not None else b""
        try:
            await self._process(event, value)
        finally:
            if len(value) >= LARGE_MESSAGE_BYTES:
                release_memory()

    async def _process(self, event: faust.EventT, value: bytes) -> None:
        message = event.message
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

    def _handled(self, started: float, message: Any) -> None:
        took = time.perf_counter() - started
        self.metrics.handling.observe(took)
        if took >= SLOW_MESSAGE_S:
            log.warning("%s: %s[%d]@%d took %.1f s", self.service, message.topic, message.partition,
                        message.offset, took)

    def _record(self, out: Message) -> tuple[str, bytes | None, bytes]:
        spec = topic_for(out)
        data = out.to_bytes()
        limit = spec.max_record_bytes
        if len(data) > limit:
            raise Reject("output_too_large",
                         f"{type(out).__name__} of {len(data):,} bytes; {spec.name} takes {limit:,}")
        return spec.name, _key_of(out), data

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


def build_worker(stage: Stage, stage_ref: str, settings: ServiceSettings) -> faust.App:
    """The faust app of a stage: its agent, its table, the isolated handler or the inline one.

    ``stage_ref`` (``module:NAME``) lets the isolated child import the same stage object.
    """
    app = make_app(stage.service, settings)
    metrics = ServiceMetrics(stage.service)
    handler: Callable[[bytes], Any]
    if stage.isolated:
        isolated = IsolatedHandler(stage_ref, settings, budget_s=settings.stage_budget_s,
                                   start_timeout_s=settings.stage_start_timeout_s)
        handler = isolated

        @app.task
        async def start_stage() -> None:  # before the first message, off the event loop
            await isolated.astart()
    else:
        store = app.Table(stage.table, partitions=stage.consumes.partitions) if stage.table else None
        handler = stage.build(settings, store, metrics)
    step = Step(app, stage.service, handler, stage.produces, metrics, observe=stage.observe,
                fatal=exit_loudly)

    async def agent(stream: faust.StreamT) -> None:
        await step(stream)

    agent.__doc__ = f"{stage.service}: {stage.consumes.name} → " + ", ".join(s.name for s in stage.produces)
    app.agent(declare(app, stage.consumes), name=stage.service)(agent)
    return app


# Refusals of one record by the broker or the client: about this message, so it is dead-lettered.
_REFUSED_RECORD = (MessageSizeTooLargeError, RecordTooLargeError, CorruptRecordException)


def _key_of(message: Message) -> bytes | None:
    """Records are keyed by what identifies them, so a replay lands on the same partition."""
    key = getattr(message, "alert_id", None) or getattr(message, "article_id", None)
    return key.encode("utf-8") if key else None


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
