"""A real Prometheus scrapes five in-process exporters built by shared.metrics; every dashboard query runs on it.

No Kafka here: each service's metrics come from ServiceMetrics + serve_metrics on a free port, fed
by a background thread, so this checks the metric names, labels and PromQL of the provisioned
dashboards against what the factory really exposes and what a real Prometheus really accepts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from prometheus_client import CollectorRegistry, Counter

from shared.lag import LagCollector
from shared.metrics import ServiceMetrics, restart_counter, serve_metrics
from shared.topics import (
    ALERTS,
    CLEAN_ARTICLES,
    DEAD_LETTERS,
    DUPLICATES,
    ENRICHED_ARTICLES,
    RAW_ARTICLES,
    SERVICES,
    STORIED_ARTICLES,
    STORY_RECORDS,
    UNIQUE_ARTICLES,
)
from tests.integration.harness import REPO
from tests.integration.prom import (
    DOMAIN_METRICS,
    DashboardQuery,
    Prometheus,
    dashboard_queries,
    render_grafana_expr,
)

pytestmark = pytest.mark.integration

# What each service reads and writes (its DLQ is added below), as in the pipeline.
FLOW = {
    "clean": ([RAW_ARTICLES.name], [CLEAN_ARTICLES.name]),
    "dedup": ([CLEAN_ARTICLES.name], [UNIQUE_ARTICLES.name, DUPLICATES.name]),
    "entities": ([UNIQUE_ARTICLES.name], [ENRICHED_ARTICLES.name]),
    "stories": ([ENRICHED_ARTICLES.name], [STORIED_ARTICLES.name, STORY_RECORDS.name]),
    "alerts": ([STORIED_ARTICLES.name], [ALERTS.name]),
}
DOMAIN_LABEL_VALUES = {
    "kind": ["url", "near"],
    "label": ["PERSON", "ORG"],
    "rule": ["earthquake"],
    "status": ["new", "mention"],
}


@dataclass
class Exporter:
    """One service's metrics, served on its own port from its own registry."""

    service: str
    metrics: ServiceMetrics
    port: int
    domain: dict[str, tuple[Counter, tuple[str, ...]]] = field(default_factory=dict)
    restarts: Counter | None = None  # the supervisor's, served here by clean's exporter

    def emit(self) -> None:
        """One round of traffic: every standard metric and every domain counter moves."""
        inputs, outputs = FLOW[self.service]
        for topic in inputs:
            self.metrics.consumed.labels(self.service, topic).inc(3)
        for topic in [*outputs, DEAD_LETTERS[self.service].name]:
            self.metrics.produced.labels(self.service, topic).inc()
        self.metrics.dead_letters.labels(self.service, "invalid").inc()
        for seconds in (0.002, 0.02, 0.2):
            self.metrics.processing.observe(seconds)
            self.metrics.handling.observe(seconds / 2)
        for counter, labels in self.domain.values():
            values = [DOMAIN_LABEL_VALUES[label][0] for label in labels]
            counter.labels(self.service, *values).inc()
        if self.service == "alerts":
            for output in ("alert", "event"):
                for seconds in (0.3, 0.8, 2.5):
                    self.metrics.end_to_end.labels(output).observe(seconds)
        if self.service == "entities":
            self.metrics.batch_size.labels(self.service, "entities").observe(4)
        if self.restarts is not None:
            self.restarts.labels(self.service, "exited").inc()


@pytest.fixture(scope="module")
def exporters() -> Iterator[dict[str, Exporter]]:
    """The five services' /metrics endpoints, fed every 0.2 s so every rate() stays above zero."""
    result = {}
    for service in SERVICES:
        registry = CollectorRegistry()
        metrics = ServiceMetrics(service, registry=registry)
        domain = {
            name: (metrics.counter(name, f"{name} (test)", labels), labels)
            for name, labels in DOMAIN_METRICS[service].items()
        }
        # lag as the workers' collector exports it, from offsets a stub reads (no broker here)
        registry.register(LagCollector(service, lambda: {("news.topic", 0): (5, 8)}))
        restarts = restart_counter(registry) if service == "clean" else None
        port = serve_metrics("127.0.0.1", 0, registry)
        result[service] = Exporter(service, metrics, port, domain, restarts)

    stop = threading.Event()

    def feed() -> None:
        while not stop.is_set():
            for exporter in result.values():
                exporter.emit()
            stop.wait(0.2)

    feeder = threading.Thread(target=feed, name="metrics-feeder", daemon=True)
    feeder.start()
    yield result
    stop.set()
    feeder.join(timeout=5)
    # serve_metrics returns only the port, so the HTTP server threads (daemons) live on.


@pytest.fixture(scope="module")
def prometheus(exporters: dict[str, Exporter]) -> Iterator[Prometheus]:
    """The real Prometheus, scraping the five exporters every second under their service words."""
    targets = {service: f"127.0.0.1:{exp.port}" for service, exp in exporters.items()}
    # The project's alerting rules too: the "Alerts" panel counts their ALERTS series (the fed
    # dead letters make NewswatchDeadLettersHigh pending within seconds).
    with Prometheus(targets, rule_files=[REPO / "deploy" / "prometheus" / "rules.yml"]) as prom:
        prom.wait_for_targets(timeout=30)
        yield prom


def test_every_service_is_scraped_under_its_word(prometheus: Prometheus) -> None:
    assert prometheus.target_health() == {service: "up" for service in SERVICES}
    for service in SERVICES:
        series = prometheus.wait_for(f'news_messages_consumed_total{{job="{service}"}}', timeout=10)
        assert {s["metric"]["service"] for s in series} == {service}


def test_standard_set_is_exposed_with_its_labels(prometheus: Prometheus) -> None:
    for service in SERVICES:
        sel = f'{{service="{service}"}}'
        consumed = prometheus.wait_for(f"news_messages_consumed_total{sel}", timeout=10)
        assert {s["metric"]["topic"] for s in consumed} == set(FLOW[service][0])
        produced = prometheus.wait_for(f"news_messages_produced_total{sel}", timeout=10)
        assert {s["metric"]["topic"] for s in produced} == {
            *FLOW[service][1],
            DEAD_LETTERS[service].name,
        }
        dead = prometheus.wait_for(f"news_dead_letters_total{sel}", timeout=10)
        assert {s["metric"]["reason"] for s in dead} == {"invalid"}
        for histogram in ("news_processing_seconds", "news_handler_seconds"):
            buckets = prometheus.wait_for(f"{histogram}_bucket{sel}", timeout=10)
            assert {s["metric"]["le"] for s in buckets} >= {"0.005", "2.0", "+Inf"}


QUERIES = dashboard_queries()


@pytest.mark.parametrize("query", QUERIES, ids=[str(q) for q in QUERIES])
def test_dashboard_query_evaluates_and_returns_data(
    prometheus: Prometheus, query: DashboardQuery
) -> None:
    expr = render_grafana_expr(query.expr, rate_interval="1m")
    prometheus.query(expr)  # raises PrometheusQueryError if Prometheus rejects it
    # Every counter moves and every histogram observes, so each panel must show a positive value.
    series = prometheus.wait_for(f"({expr}) > 0", timeout=30)
    assert series, f"{query}: no data for {expr}"


def test_dashboards_have_queries() -> None:
    assert {q.dashboard for q in QUERIES} == {"overview", *SERVICES}
