"""Stage declarations: cheap to import, built lazily, and their handlers' counts counted once."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from prometheus_client import CollectorRegistry

from services.stages import STAGES, sources, stages_of, stages_until
from shared.metrics import ServiceMetrics
from shared.settings import ServiceSettings
from shared.stage import Count, Handled, Metric, Stage, as_handled, record_counts, register_metrics
from shared.topics import CLEAN_ARTICLES, RAW_ARTICLES, SERVICES


def test_importing_every_stage_declaration_loads_no_spacy():
    code = (
        "import sys, services.stages, cli.main; "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'spacy', 'thinc', 'torch'}); "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_registry_lists_each_service_in_pipeline_order():
    services = ["clean", "dedup", "entities", "stories", "alerts", "alerts"]
    assert [stage.service for stage in STAGES] == services
    assert {stage.service for stage in STAGES} == set(SERVICES)
    assert [s.step for s in stages_of("alerts")] == ["alerts", "events"]
    assert [s.name for s in sources()["alerts"]] == ["news.storied-article.v1", "news.alert.v1"]
    assert stages_until("dedup") == STAGES[:2] and stages_until("alerts") == STAGES


def test_each_stage_consumes_what_an_earlier_stage_produces():
    produced = {RAW_ARTICLES.name}
    for stage in STAGES:
        assert stage.consumes.name in produced, stage.step
        produced.update(spec.name for spec in stage.produces)


@pytest.mark.parametrize("stage", STAGES, ids=lambda s: s.step)
def test_each_build_reference_names_a_function(stage):
    assert callable(stage.builder())


def test_a_build_reference_without_a_function_is_refused():
    with pytest.raises(ValueError, match="module:function"):
        Stage("clean", RAW_ARTICLES, (CLEAN_ARTICLES,), ServiceSettings, "services.clean.handler")


STAGE = Stage(
    "clean",
    RAW_ARTICLES,
    (CLEAN_ARTICLES,),
    ServiceSettings,
    "tests.shared.worker.isolate_stages:build",
    metrics=(Metric("widgets", "Widgets.", ("kind",)), Metric("gone", "Gone.")),
)


def test_declared_counts_are_counted_and_an_undeclared_one_is_logged(caplog):
    registry = CollectorRegistry()
    metrics = ServiceMetrics("clean", registry)
    register_metrics(metrics, [STAGE])
    caplog.set_level(logging.ERROR, "newswatch")
    record_counts(
        metrics,
        STAGE,
        [
            Count("widgets", ("a",)),
            Count("widgets", ("a",), 2),
            Count("gone", (), 0),
            Count("gone", (), 3),
            Count("unknown", ("x",)),
            Count("widgets", ()),
        ],
    )
    assert registry.get_sample_value("news_widgets_total", {"service": "clean", "kind": "a"}) == 3
    assert registry.get_sample_value("news_gone_total", {"service": "clean"}) == 3
    assert len(caplog.records) == 2 and "does not declare" in caplog.records[0].getMessage()


def test_a_bare_sequence_of_outputs_is_handled_without_counts():
    assert as_handled([]) == Handled(())
    handled = Handled((), (Count("gone"),))
    assert as_handled(handled) is handled
