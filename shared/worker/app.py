"""The faust app of a service: its configuration, its topics and one agent per stage."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import faust
from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from prometheus_client import REGISTRY

from shared.metrics import ServiceMetrics
from shared.security import faust_credentials
from shared.settings import ServiceSettings
from shared.stage import BatchHandler, Stage, register_metrics
from shared.topics import MAX_MESSAGE_BYTES
from shared.worker.commits import Transport
from shared.worker.isolate import IsolatedHandler
from shared.worker.loop import Step, declare, exit_loudly


def app_conf(service: str, settings: ServiceSettings) -> dict[str, Any]:
    """The faust configuration of a service's app, from its settings.

    The data dir is named by ``settings.worker_name`` (the service word when unset): two workers of
    one service on one host would otherwise open the same RocksDB files. A named worker is also
    its Kafka client id, by which ``newswatch run`` knows it among its group's members.
    """
    worker = settings.worker_name or service
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
        "datadir": f"{settings.data_dir}/{worker}{settings.group_suffix}",
        "broker_session_timeout": settings.session_timeout_s,
        "broker_heartbeat_interval": min(3.0, settings.session_timeout_s / 3),
        "consumer_auto_offset_reset": "earliest",
        "topic_partitions": settings.topic_partitions,
        "topic_replication_factor": 1,
        "producer_acks": -1,
        # Dead letters carry the original bytes of inputs up to MAX_MESSAGE_BYTES (shared.topics).
        "producer_max_request_size": 2 * MAX_MESSAGE_BYTES,
        "consumer_max_fetch_size": 2 * MAX_MESSAGE_BYTES,
        "stream_buffer_maxsize": settings.stream_buffer_size,
        # faust's default 0 sends every record (outputs and changelog) in a request of its own:
        # a fifth of a light stage's CPU went to those socket writes (py-spy, issue 22).
        "producer_linger": settings.producer_linger_ms / 1000,
    }
    if settings.worker_name:
        conf["broker_client_id"] = settings.worker_name
    return conf


def make_app(service: str, settings: ServiceSettings, **overrides: Any) -> faust.App:
    """A faust app whose id (= consumer group) is the service word, values read as raw bytes.

    Raw bytes, because faust's own decode-error path logs and commits past a bad message; we
    decode in the agent so a bad message becomes a dead letter instead (STYLE.md §4).
    """
    conf = app_conf(service, settings) | overrides
    Path(conf["datadir"]).mkdir(parents=True, exist_ok=True)  # faust does not create it
    app = faust.App(f"{service}{settings.group_suffix}", **conf)
    # Commits that never pass a message not acked (StrictCommitConsumer); the broker URL is kafka://.
    app.transport = Transport(app.conf.broker_consumer, app)
    # faust's own sensor (per-topic throughput, send latency, rebalances), into the same registry
    # that /metrics serves; "faust" prefix so every service's series share one name.
    app.monitor = PrometheusMonitor(metrics=FaustMetrics.create(REGISTRY, "faust"))
    return app


def build_worker(stages: Sequence[Stage], settings: ServiceSettings) -> faust.App:
    """The faust app of a service: one agent per stage (``services.stages.stages_of``), in one app.

    One consumer group, one /metrics and one dead-letter topic for all of the service's stages
    (alerts: its rules and its events). An isolated stage's handler runs in a child process.
    """
    service = stages[0].service
    if any(stage.service != service for stage in stages):
        raise ValueError(
            f"one service's stages in one worker, not {sorted({s.service for s in stages})}"
        )
    app = make_app(service, settings)
    metrics = ServiceMetrics(service)
    register_metrics(metrics, stages)
    for stage in stages:
        _add_agent(app, stage, settings, metrics)
    return app


def _add_agent(
    app: faust.App, stage: Stage, settings: ServiceSettings, metrics: ServiceMetrics
) -> None:
    batching = stage.batching(settings) if stage.batching is not None else None
    handler: Callable[[bytes], Any]
    batch: Callable[[Sequence[bytes]], Any] | None = None
    if stage.isolated:
        isolated = IsolatedHandler(
            stage,
            settings,
            budget_s=settings.stage_budget_s,
            start_timeout_s=settings.stage_start_timeout_s,
            batch_budget_s=batching.budget_s if batching else None,
        )
        handler = isolated
        batch = isolated.batch if batching else None

        async def start_stage() -> None:  # before the first message, off the event loop
            await isolated.astart()

        app.task(start_stage)
    else:
        store = (
            app.Table(stage.table, partitions=stage.consumes.partitions) if stage.table else None
        )
        handler = stage.make_handler(settings, store)
        if batching is not None:
            if not isinstance(handler, BatchHandler):
                raise TypeError(
                    f"{stage.step} takes batches but its build returned no batch handler"
                )
            batch = handler.batch
    step = Step(app, stage, handler, metrics, fatal=exit_loudly, batch=batch, batching=batching)

    async def agent(stream: faust.StreamT) -> None:
        await step(stream)

    agent.__doc__ = f"{stage.step}: {stage.consumes.name} → " + ", ".join(
        s.name for s in stage.produces
    )
    app.agent(declare(app, stage.consumes), name=stage.step)(agent)
