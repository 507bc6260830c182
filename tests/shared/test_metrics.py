"""Metric naming rules: the news_ prefix, a service label first, _total counters, base units."""

import urllib.request

import pytest
from prometheus_client import CollectorRegistry

from shared.metrics import (
    DEFAULT_PORTS,
    RESTART_CAUSES,
    RUN_PORT,
    ServiceMetrics,
    ports_from,
    restart_counter,
    run_port_from,
    serve_metrics,
    worker_port,
)
from shared.topics import SERVICES


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


def test_end_to_end_and_batch_size_are_histograms_of_the_standard_set():
    registry = CollectorRegistry()
    metrics = ServiceMetrics("alerts", registry)
    metrics.end_to_end.labels("alert").observe(0.2)
    metrics.batch_size.labels("alerts", "alerts").observe(8)
    assert registry.get_sample_value("news_end_to_end_seconds_count", {"output": "alert"}) == 1
    assert (
        registry.get_sample_value(
            "news_end_to_end_seconds_bucket", {"output": "alert", "le": "0.05"}
        )
        == 0
    )
    assert (
        registry.get_sample_value(
            "news_end_to_end_seconds_bucket", {"output": "alert", "le": "300.0"}
        )
        == 1
    )
    assert (
        registry.get_sample_value("news_batch_size_sum", {"service": "alerts", "step": "alerts"})
        == 8
    )


def test_restarts_start_at_zero_for_every_service_and_cause():
    registry = CollectorRegistry()
    restart_counter(registry).labels("dedup", "stalled").inc()
    for service in SERVICES:
        for cause in RESTART_CAUSES:
            value = registry.get_sample_value(
                "news_worker_restarts_total", {"service": service, "cause": cause}
            )
            assert value == (1 if (service, cause) == ("dedup", "stalled") else 0)


def test_the_supervisor_port_keeps_its_offset_from_the_services():
    assert run_port_from(DEFAULT_PORTS["clean"]) == RUN_PORT
    assert run_port_from(20000) not in ports_from(20000).values()


@pytest.mark.parametrize("base", [DEFAULT_PORTS["clean"], 20000])
def test_every_worker_has_a_port_of_its_own_clear_of_the_services_and_the_supervisors(base):
    assert {svc: worker_port(base, svc, 1) for svc in SERVICES} == ports_from(base)
    extra = [worker_port(base, svc, n) for svc in SERVICES for n in range(2, 8)]
    taken = [*ports_from(base).values(), run_port_from(base)]
    assert len(set(extra)) == len(extra) and not set(extra) & set(taken)
    assert worker_port(DEFAULT_PORTS["clean"], "entities", 2) == 9113


def test_worker_numbers_start_at_one():
    with pytest.raises(ValueError, match="start at 1"):
        worker_port(9101, "entities", 0)
