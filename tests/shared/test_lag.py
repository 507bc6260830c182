"""The lag collector without a broker: what it exports, its cache, and a broker that fails or hangs."""

from __future__ import annotations

import threading
import time
import urllib.request

from prometheus_client import CollectorRegistry

from shared.lag import LagCollector, Offsets
from shared.metrics import serve_metrics


def samples(collector: LagCollector) -> dict[tuple[str, str, str], float]:
    return {
        (s.name, s.labels["topic"], s.labels["partition"]): s.value
        for family in collector.collect()
        for s in family.samples
    }


def test_lag_is_the_end_offset_minus_the_committed_one_per_partition():
    offsets: Offsets = {("news.clean-article.v1", 0): (7, 10), ("news.clean-article.v1", 1): (4, 4)}
    found = samples(LagCollector("dedup", lambda: offsets))
    assert found == {
        ("news_consumer_lag", "news.clean-article.v1", "0"): 3,
        ("news_consumer_lag", "news.clean-article.v1", "1"): 0,
        ("news_consumer_committed_offset", "news.clean-article.v1", "0"): 7,
        ("news_consumer_committed_offset", "news.clean-article.v1", "1"): 4,
    }


def test_reads_within_the_cache_time_ask_the_broker_once():
    calls = []
    now = [0.0]

    def read() -> Offsets:
        calls.append(now[0])
        return {("t", 0): (1, 2)}

    collector = LagCollector("clean", read, cache_s=2.0, clock=lambda: now[0])
    samples(collector)
    now[0] = 1.9
    samples(collector)
    assert len(calls) == 1
    now[0] = 2.1
    samples(collector)
    assert len(calls) == 2


def test_a_broker_error_exports_nothing_for_that_scrape_and_the_next_read_tries_again():
    answers: list[Offsets | Exception] = [ConnectionError("no broker"), {("t", 0): (1, 5)}]

    def read() -> Offsets:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    collector = LagCollector("clean", read, cache_s=0)
    assert samples(collector) == {}
    assert samples(collector)[("news_consumer_lag", "t", "0")] == 4


def test_a_broker_that_hangs_leaves_metrics_answering_within_the_timeout():
    release = threading.Event()

    def read() -> Offsets:
        release.wait(10)
        return {("t", 0): (0, 3)}

    registry = CollectorRegistry()
    collector = LagCollector("alerts", read, timeout_s=0.3, cache_s=0)
    registry.register(collector)
    port = serve_metrics("127.0.0.1", 0, registry)
    started = time.monotonic()
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert time.monotonic() - started < 2
    assert "news_consumer_lag{" not in body
    release.set()
    time.sleep(0.1)  # the read in flight finishes and the next scrape has it
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'news_consumer_lag{partition="0",service="alerts",topic="t"} 3.0' in body
    collector.close()
