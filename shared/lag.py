"""Consumer lag read from the broker at scrape time: a prometheus-client Collector per worker."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from shared.metrics import PREFIX

log = logging.getLogger("newswatch")

# (topic, partition) -> (committed offset, log-end offset)
Offsets = dict[tuple[str, int], tuple[int, int]]


class KafkaOffsets:
    """Reads a group's committed offsets and its topics' log-end offsets with kafka-python.

    A partition the group never committed counts from its beginning offset (where the group, which
    reads from the earliest, starts), so a worker stuck before its first commit still shows lag.
    """

    def __init__(
        self,
        bootstrap: str,
        group: str,
        topics: Sequence[str],
        client_kwargs: Mapping[str, Any] | None = None,
        timeout_s: float = 2.0,
    ) -> None:
        self.bootstrap = bootstrap
        self.group = group
        self.topics = list(topics)
        self.client_kwargs = dict(client_kwargs or {})
        self.timeout_ms = int(timeout_s * 1000)
        self._admin: Any = None
        self._consumer: Any = None

    def _clients(self) -> tuple[Any, Any]:
        if self._admin is None:
            common = {
                "bootstrap_servers": self.bootstrap.split(","),
                "client_id": f"newswatch-lag-{self.group}",
                "request_timeout_ms": max(self.timeout_ms, 1000),
                **self.client_kwargs,
            }
            self._admin = KafkaAdminClient(**common)
            self._consumer = KafkaConsumer(enable_auto_commit=False, **common)
        return self._admin, self._consumer

    def __call__(self) -> Offsets:
        """Committed and end offsets of every partition of the group's topics; raises on errors."""
        try:
            admin, consumer = self._clients()
            committed = admin.list_group_offsets(self.group).get(self.group, {})
            parts = []
            for topic in self.topics:
                parts += [
                    TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()
                ]
            if not parts:
                return {}
            ends = consumer.end_offsets(parts)
            fresh = [tp for tp in parts if tp not in committed or committed[tp].offset < 0]
            starts = consumer.beginning_offsets(fresh) if fresh else {}
            offsets: Offsets = {}
            for tp in parts:
                done = committed[tp].offset if tp not in starts else starts[tp]
                offsets[(tp.topic, tp.partition)] = (int(done), int(ends[tp]))
            return offsets
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        """Close the clients (opened again on the next read)."""
        for client in (self._admin, self._consumer):
            if client is not None:
                try:
                    client.close()
                except Exception:  # noqa: BLE001, S110 — closing a client of a dead broker
                    pass
        self._admin = self._consumer = None


class LagCollector(Collector):
    """``news_consumer_lag`` and ``news_consumer_committed_offset`` {service, topic, partition}.

    Read from the broker when Prometheus scrapes (the /metrics server runs in its own thread, so
    this answers while the worker's event loop is stuck), in a thread of its own bounded by
    ``timeout_s``, and kept ``cache_s`` so close scrapes do not each ask the broker. A read that
    fails or takes too long exports neither family for that scrape; /metrics itself never fails.
    """

    def __init__(
        self,
        service: str,
        read: Callable[[], Offsets],
        *,
        timeout_s: float = 2.0,
        cache_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.read = read
        self.timeout_s = timeout_s
        self.cache_s = cache_s
        self.clock = clock
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="news-lag")
        self._pending: Future[Offsets] | None = None
        self._cached: Offsets | None = None
        self._cached_at = float("-inf")

    def offsets(self) -> Offsets | None:
        """The offsets to export now: cached, freshly read, or None (no answer in time)."""
        with self._lock:
            if self._cached is not None and self.clock() - self._cached_at < self.cache_s:
                return self._cached
            if self._pending is None:  # a read still running from a timed-out scrape is reused
                self._pending = self._pool.submit(self.read)
            pending = self._pending
        try:
            offsets = pending.result(timeout=self.timeout_s)
        except FutureTimeout:
            log.warning(
                "%s: consumer lag: no answer from the broker within %.1f s",
                self.service,
                self.timeout_s,
            )
            return None
        except Exception as error:  # noqa: BLE001 — a broker error: nothing exported this scrape
            log.warning("%s: consumer lag: %s: %s", self.service, type(error).__name__, error)
            with self._lock:
                if self._pending is pending:
                    self._pending = None
            return None
        with self._lock:
            if self._pending is pending:
                self._pending = None
                self._cached, self._cached_at = offsets, self.clock()
        return offsets

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The families without samples, so registering does not read the broker."""
        yield from self._families({})

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """The two families from one read, or nothing when the read failed."""
        offsets = self.offsets()
        if offsets is None:
            return
        yield from self._families(offsets)

    def _families(self, offsets: Offsets) -> Iterator[GaugeMetricFamily]:
        labels = ["service", "topic", "partition"]
        lag = GaugeMetricFamily(
            f"{PREFIX}consumer_lag",
            "Records on the partition the service's consumer group has not committed (log-end "
            "offset minus committed offset), read from the broker at scrape time.",
            labels=labels,
        )
        committed = GaugeMetricFamily(
            f"{PREFIX}consumer_committed_offset",
            "The service's consumer group's committed offset on the partition (its beginning "
            "offset before the first commit), read from the broker at scrape time.",
            labels=labels,
        )
        for (topic, partition), (done, end) in sorted(offsets.items()):
            values = [self.service, topic, str(partition)]
            lag.add_metric(values, max(0, end - done))
            committed.add_metric(values, done)
        yield lag
        yield committed

    def close(self) -> None:
        """Stop the reading thread (a read in flight finishes on its own)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
