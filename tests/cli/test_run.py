"""`newswatch run`'s wiring without processes: restarts counted by service, Prometheus targets, settings errors."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from cli.run import count_restarts, prometheus_targets, settings_error
from cli.workers import plan_workers, worker_counts
from shared.metrics import restart_counter
from shared.settings import RunSettings

PLAN = plan_workers(worker_counts({"entities": 2}), 9101)


def test_a_restart_of_any_worker_is_counted_under_its_services_word():
    registry = CollectorRegistry()
    count = count_restarts(restart_counter(registry), PLAN)
    count("entities-2", "killed")
    count("entities", "killed")
    count("entities-2", "stalled")

    def value(service: str, cause: str) -> float | None:
        return registry.get_sample_value(
            "news_worker_restarts_total", {"service": service, "cause": cause}
        )

    assert (value("entities", "killed"), value("entities", "stalled")) == (2, 1)
    assert value("entities-2", "killed") is None  # no label value of its own


def test_prometheus_scrapes_every_worker_in_its_services_job_and_the_supervisor():
    targets, jobs = prometheus_targets(PLAN, 9106)
    assert targets["entities-2"] == "127.0.0.1:9113" and targets["run"] == "127.0.0.1:9106"
    assert jobs["entities"] == jobs["entities-2"] == "entities" and "run" not in jobs
    assert prometheus_targets(PLAN, None)[0].keys() == jobs.keys()  # the port was taken


def test_a_refused_setting_is_one_line_naming_its_variable(monkeypatch):
    monkeypatch.setenv("NEWS_RUN_WORKERS", "entities=2,entitis=1")
    with pytest.raises(ValidationError) as error:
        RunSettings()
    assert settings_error(error.value) == (
        "NEWS_RUN_WORKERS: 'entitis=1': no service 'entitis' "
        "(one of clean, dedup, entities, stories, alerts)"
    )
