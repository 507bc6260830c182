"""Metric naming rules: the news_ prefix, a service label first, _total counters, base units."""

import urllib.request

from prometheus_client import CollectorRegistry

from shared.metrics import ServiceMetrics, serve_metrics


def test_standard_set_is_served_with_the_service_label():
    registry = CollectorRegistry()
    metrics = ServiceMetrics("dedup", registry)
    metrics.consumed.labels("dedup", "news.clean-article.v1").inc()
    metrics.dead_letters.labels("dedup", "invalid_json").inc()
    metrics.counter("duplicates", "Duplicates.", ("kind",)).labels("dedup", "near").inc(2)
    with metrics.processing.time():
        pass
    port = serve_metrics("127.0.0.1", 0, registry)
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'news_messages_consumed_total{service="dedup",topic="news.clean-article.v1"} 1.0' in body
    assert 'news_dead_letters_total{reason="invalid_json",service="dedup"} 1.0' in body
    assert 'news_duplicates_total{kind="near",service="dedup"} 2.0' in body
    assert 'news_processing_seconds_count{service="dedup"} 1.0' in body


def test_every_metric_name_has_the_prefix_and_counters_end_in_total():
    registry = CollectorRegistry()
    metrics = ServiceMetrics("alerts", registry)
    metrics.counter("alerts_fired", "Alerts.", ("rule",)).labels("alerts", "troop_movement").inc()
    for family in registry.collect():
        assert family.name.startswith("news_")
        for sample in family.samples:
            assert sample.labels.get("service", "alerts") == "alerts"
            if family.type == "counter":
                assert sample.name.endswith(("_total", "_created"))


def test_a_domain_metric_is_created_once_and_reused():
    metrics = ServiceMetrics("entities", CollectorRegistry())
    first = metrics.counter("entities", "Entities.", ("label",))
    assert metrics.counter("entities", "Entities.", ("label",)) is first
