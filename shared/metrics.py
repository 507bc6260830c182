"""The one metrics factory: the standard ``news_*`` set per service, domain metrics, and the /metrics server."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    start_http_server,
)

from shared.topics import SERVICES

PREFIX = "news_"

# Each service's /metrics port when NEWS_METRICS_PORT is not set (also used by deploy/prometheus).
DEFAULT_PORTS = {"clean": 9101, "dedup": 9102, "entities": 9103, "alerts": 9104, "stories": 9105}
# The /metrics port of `newswatch run`'s supervisor (news_worker_restarts_total): after the services'
# (9100 is node_exporter's).
RUN_PORT = 9106


def ports_from(base: int) -> dict[str, int]:
    """Each service's /metrics port when the first (clean's) is ``base``: the defaults' offsets kept."""
    return {svc: base + port - DEFAULT_PORTS["clean"] for svc, port in DEFAULT_PORTS.items()}


def run_port_from(base: int) -> int:
    """The supervisor's /metrics port when clean's is ``base``: RUN_PORT's offset kept."""
    return base + RUN_PORT - DEFAULT_PORTS["clean"]


# A service's further workers (`newswatch run --workers entities=3`) each serve /metrics on the
# first worker's port plus a multiple of this: entities-2 on 9113, entities-3 on 9123. The
# services' five ports and the supervisor's take the first ten from the base, so no worker's port
# is another's, whatever the counts.
WORKER_PORT_STRIDE = 10


def worker_port(base: int, service: str, number: int) -> int:
    """The /metrics port of ``service``'s worker ``number`` (1: its first, on the service's own port)."""
    if number < 1:
        raise ValueError(f"worker numbers start at 1, not {number}")
    return ports_from(base)[service] + (number - 1) * WORKER_PORT_STRIDE


# spaCy dominates: a short article takes ~5 ms, a long dump ~1 s; 2 s is the bound no accepted
# input may pass in any stage (docs/bad-input.md), so it is a bucket edge.
PROCESSING_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0)
# An article's way from the clean stage to an alert or event record: ~0.1 s through an idle local
# pipeline, seconds behind a backlog, minutes when a worker restarts (the session timeout and its
# backoff); 1 s is the NewswatchEndToEndSlow threshold, so it is a bucket edge.
END_TO_END_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
# Messages per batch call (entities: at most NEWS_ENTITIES_BATCH_SIZE).
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


@dataclass
class ServiceMetrics:
    """The standard set every service exposes, each labelled with the service's one word."""

    service: str
    registry: CollectorRegistry = REGISTRY
    _domain: dict[str, Counter | Gauge] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.consumed = Counter(
            f"{PREFIX}messages_consumed",
            "Messages read from an input topic.",
            ["service", "topic"],
            registry=self.registry,
        )
        self.produced = Counter(
            f"{PREFIX}messages_produced",
            "Messages written to an output topic (dead letters included).",
            ["service", "topic"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            f"{PREFIX}dead_letters",
            "Messages sent to the service's dead-letter topic, by reason.",
            ["service", "reason"],
            registry=self.registry,
        )
        self.processing = Histogram(
            f"{PREFIX}processing_seconds",
            "Time to process one consumed message, decode to the broker's acknowledgement of its last output.",
            ["service"],
            buckets=PROCESSING_BUCKETS,
            registry=self.registry,
        ).labels(service=self.service)
        self.handling = Histogram(
            f"{PREFIX}handler_seconds",
            "The stage's own work on one message: decode and handler, without waiting for the broker.",
            ["service"],
            buckets=PROCESSING_BUCKETS,
            registry=self.registry,
        ).labels(service=self.service)
        self.end_to_end = Histogram(
            f"{PREFIX}end_to_end_seconds",
            "From an article's ingested_at (its clean stage) to the broker's acknowledgement of "
            "the alert or event record made of it, by output (alert, event).",
            ["output"],
            buckets=END_TO_END_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            f"{PREFIX}batch_size",
            "Messages per batch handed to a stage that takes batches, by step.",
            ["service", "step"],
            buckets=BATCH_SIZE_BUCKETS,
            registry=self.registry,
        )

    def counter(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
        """A domain counter named ``news_<name>`` with the ``service`` label first (created once)."""
        if name not in self._domain:
            self._domain[name] = Counter(
                f"{PREFIX}{name}", doc, ["service", *labels], registry=self.registry
            )
        metric = self._domain[name]
        assert isinstance(metric, Counter)
        return metric

    def gauge(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        """A domain gauge named ``news_<name>`` with the ``service`` label first (created once)."""
        if name not in self._domain:
            self._domain[name] = Gauge(
                f"{PREFIX}{name}", doc, ["service", *labels], registry=self.registry
            )
        metric = self._domain[name]
        assert isinstance(metric, Gauge)
        return metric


# Why `newswatch run` restarted a worker: it exited with a status, a signal ended it, it stalled
# (lag and no commit for NEWS_RUN_STALL_AFTER_S), or it exited while the broker was down.
RESTART_CAUSES = ("exited", "killed", "stalled", "broker_down")


def restart_counter(registry: CollectorRegistry = REGISTRY) -> Counter:
    """``news_worker_restarts_total{service, cause}``: the supervisor's restarts, every pair at 0 first."""
    counter = Counter(
        f"{PREFIX}worker_restarts",
        "Workers restarted by `newswatch run`, by service and cause (exited, killed, stalled, "
        "broker_down).",
        ["service", "cause"],
        registry=registry,
    )
    for service in SERVICES:
        for cause in RESTART_CAUSES:
            counter.labels(service, cause)
    return counter


def serve_metrics(host: str, port: int, registry: CollectorRegistry = REGISTRY) -> int:
    """Serve ``/metrics`` on host:port (port 0 picks a free one); returns the bound port."""
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return int(server.server_port)
