"""faust glue every service shares: the app factory, topic declaration, and the decode → core → send → count loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faust
from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from prometheus_client import REGISTRY

from shared.errors import classify, make_dead_letter
from shared.metrics import DEFAULT_PORTS, ServiceMetrics, serve_metrics
from shared.schemas import Message
from shared.settings import ServiceSettings
from shared.topics import DEAD_LETTERS, MAX_MESSAGE_BYTES, TopicSpec, topic_for

log = logging.getLogger("newswatch")

# One consumed message's value in, the messages to publish out (routed by their model's topic).
Handler = Callable[[bytes], Sequence[Message]]


def make_app(service: str, settings: ServiceSettings, **overrides: Any) -> faust.App:
    """A faust app whose id (= consumer group) is the service word, values read as raw bytes.

    Raw bytes, because faust's own decode-error path logs and commits past a bad message; we
    decode in the agent so a bad message becomes a dead letter instead (STYLE.md §4).
    """
    conf: dict[str, Any] = {
        "broker": [f"kafka://{host}" for host in settings.kafka_bootstrap.split(",")],
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
    """One service's agent loop: decode → core → send → count, dead-lettering what it cannot use.

    ``outputs`` lists the topics the handler may publish to; each output message goes to its
    model's topic (``shared.topics.topic_for``). With ``offload`` the CPU-bound handler runs in a worker thread so heartbeats keep flowing (spaCy on
    a long dump can take a second); stateful handlers that write faust Tables must stay inline.
    """

    def __init__(
        self,
        app: faust.App,
        service: str,
        handler: Handler,
        outputs: Sequence[TopicSpec],
        metrics: ServiceMetrics,
        *,
        offload: bool = False,
    ) -> None:
        self.service = service
        self.handler = handler
        self.metrics = metrics
        self.offload = offload
        self.topics = {spec.name: declare(app, spec) for spec in outputs}
        self.dlq = declare(app, DEAD_LETTERS[service])

    async def __call__(self, stream: faust.StreamT) -> None:
        """The agent body: iterate raw events; one bad message never stops the stream."""
        async for event in stream.events():
            message = event.message
            value: bytes = event.value if event.value is not None else b""
            self.metrics.consumed.labels(self.service, message.topic).inc()
            with self.metrics.processing.time():
                try:
                    if self.offload:
                        outputs = await asyncio.to_thread(self.handler, value)
                    else:
                        outputs = self.handler(value)
                except Exception as error:  # noqa: BLE001 — every per-message failure is dead-lettered
                    await self.dead_letter(error, value, event)
                    continue
                for out in outputs:
                    spec = topic_for(out)
                    await self.topics[spec.name].send(key=_key_of(out), value=out.to_bytes())
                    self.metrics.produced.labels(self.service, spec.name).inc()

    async def dead_letter(self, error: BaseException, value: bytes, event: faust.EventT) -> None:
        """Send one unusable message to the service's DLQ with the reason, and count it."""
        reason, is_bug = classify(error)
        message = event.message
        key = event.key if isinstance(event.key, bytes) else None
        if is_bug:
            log.error("%s: internal error on %s[%d]@%d", self.service, message.topic,
                      message.partition, message.offset, exc_info=error)
        else:
            log.warning("%s: dead-lettered %s[%d]@%d: %s", self.service, message.topic,
                        message.partition, message.offset, error)
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
        await self.dlq.send(key=key, value=letter.to_bytes())
        self.metrics.dead_letters.labels(self.service, reason).inc()
        self.metrics.produced.labels(self.service, DEAD_LETTERS[self.service].name).inc()


def _key_of(message: Message) -> bytes | None:
    """Records are keyed by what identifies them, so a replay lands on the same partition."""
    key = getattr(message, "alert_id", None) or getattr(message, "article_id", None)
    return key.encode("utf-8") if key else None


def run_worker(app: faust.App, service: str, settings: ServiceSettings, specs: Sequence[TopicSpec]) -> None:
    """Entry point of ``python -m services.<svc>.app worker``: topics, /metrics, then faust's CLI.

    Topics are created explicitly (the broker's auto-create is off), so a service started alone
    still finds its topics with the partition counts we mean.
    """
    from shared.broker import ensure_topics  # kafka-python admin; only needed when a worker starts

    logging.basicConfig(level=settings.log_level.upper(),
                        format=f"%(asctime)s %(levelname)s service={service} %(name)s: %(message)s")
    ensure_topics(settings.kafka_bootstrap, [*specs, DEAD_LETTERS[service]], settings.topic_partitions)
    start_metrics(service, settings)
    app.main()
