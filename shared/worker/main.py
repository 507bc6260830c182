"""A worker process's start: logging, its topics, /metrics, then faust's command line."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import faust
from prometheus_client import REGISTRY

from shared.admin import ensure_topics
from shared.lag import KafkaOffsets, LagCollector
from shared.metrics import DEFAULT_PORTS, serve_metrics
from shared.security import kafka_python_kwargs
from shared.settings import RunSettings, ServiceSettings
from shared.stage import Stage
from shared.topics import DEAD_LETTERS
from shared.worker.lifecycle import ConnectionErrorFilter, arm_stop_watchdog

log = logging.getLogger("newswatch")


def start_metrics(service: str, settings: ServiceSettings) -> int:
    """Serve the process's /metrics (the default registry) on the service's port; returns the port."""
    port = serve_metrics(settings.metrics_host, settings.metrics_port or DEFAULT_PORTS[service])
    log.info("%s: metrics on http://%s:%d/metrics", service, settings.metrics_host, port)
    return port


def register_lag(service: str, stages: Sequence[Stage], settings: ServiceSettings) -> LagCollector:
    """Export the service's consumer lag, read from the broker at each scrape (``shared.lag``)."""
    read = KafkaOffsets(
        settings.kafka_bootstrap,
        f"{service}{settings.group_suffix}",
        sorted({stage.consumes.name for stage in stages}),
        kafka_python_kwargs(settings),
    )
    collector = LagCollector(service, read)
    REGISTRY.register(collector)
    return collector


def run_worker(app: faust.App, stages: Sequence[Stage], settings: ServiceSettings) -> None:
    """Entry point of ``python -m services.<svc>.app worker``: topics, /metrics, then faust's CLI.

    Topics are created explicitly (the broker's auto-create is off), so a service started alone
    still finds its topics with the partition counts we mean.

    Two guards for a broker that goes away (``shared.worker.lifecycle``): connection errors of the
    Kafka clients are logged once per kind and then at most once per ``run_log_repeat_s`` with a
    count; and once a stop begins (SIGTERM, SIGINT, or a crash), a watchdog exits the process hard
    if faust has not finished within ``run_stop_timeout_s``: its orderly stop flushes to the
    broker and, with the broker gone, hangs for good while ignoring further signals.
    """
    service = stages[0].service
    bounds = RunSettings()
    quiet = ConnectionErrorFilter(every_s=bounds.run_log_repeat_s)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format=f"%(asctime)s %(levelname)s service={service} %(name)s: %(message)s",
    )
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
    specs = {spec.name: spec for stage in stages for spec in stage.topics}
    ensure_topics(
        settings.kafka_bootstrap,
        [*specs.values(), DEAD_LETTERS[service]],
        settings.topic_partitions,
        security=kafka_python_kwargs(settings),
    )
    register_lag(service, stages, settings)
    start_metrics(service, settings)
    app.main()
