"""The provisioned Grafana dashboards: one per service word plus overview, all on datasource uid `prometheus`.

Every PromQL expression is parsed by `promtool check rules` (Prometheus's own parser, offline: the
expressions go into a generated recording-rules file) and may only name metrics that
shared.metrics.ServiceMetrics really creates: the standard set plus the services' domain counters.
tests/integration/test_prometheus_scrape.py then runs the same expressions on a real Prometheus.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from prometheus_client import CollectorRegistry

from shared.lag import LagCollector
from shared.metrics import ServiceMetrics, restart_counter
from shared.topics import SERVICES
from tests.integration.prom import (
    DASHBOARDS_DIR,
    DOMAIN_METRICS,
    DashboardQuery,
    dashboard_queries,
    iter_panels,
    render_grafana_expr,
)

REPO = Path(__file__).resolve().parents[2]
PROVISIONING = REPO / "deploy" / "grafana" / "provisioning"
DASHBOARD_NAMES = ("overview", *SERVICES)
DATASOURCE_UID = "prometheus"
# Labels Prometheus adds to every scraped series, and the histogram bucket label.
TARGET_LABELS = {"job", "instance"}

# Grafana panel types that hold queries; rows and text panels have none.
QUERYLESS_PANELS = {"row", "text", "dashlist", "news"}


def load(name: str) -> dict[str, Any]:
    return json.loads((DASHBOARDS_DIR / f"{name}.json").read_text())


def exposed_metrics() -> dict[str, set[str]]:
    """Every series name the workers and the supervisor expose → its label names.

    ServiceMetrics' standard set and domain counters, the lag collector (shared.lag) and
    `newswatch run`'s restarts.
    """
    registry = CollectorRegistry()
    metrics = ServiceMetrics("clean", registry=registry)
    registry.register(LagCollector("clean", lambda: {("t", 0): (0, 0)}))
    restarts = restart_counter(registry)
    collectors = [metrics.consumed, metrics.produced, metrics.dead_letters, restarts]
    for domain in DOMAIN_METRICS.values():
        for name, domain_labels in domain.items():
            collectors.append(metrics.counter(name, name, domain_labels))
    label_names = {c._name: set(c._labelnames) for c in collectors}
    label_names["news_processing_seconds"] = {"service"}
    label_names["news_handler_seconds"] = {"service"}
    label_names["news_end_to_end_seconds"] = {"output"}
    label_names["news_batch_size"] = {"service", "step"}
    label_names["news_consumer_lag"] = {"service", "topic", "partition"}
    label_names["news_consumer_committed_offset"] = {"service", "topic", "partition"}
    exposed: dict[str, set[str]] = {}
    for family in registry.collect():
        labels = label_names[family.name] | TARGET_LABELS
        if family.type == "counter":
            exposed[f"{family.name}_total"] = labels
        elif family.type == "histogram":
            exposed[f"{family.name}_bucket"] = labels | {"le"}
            exposed[f"{family.name}_sum"] = labels
            exposed[f"{family.name}_count"] = labels
        else:
            exposed[family.name] = labels
    return exposed


EXPOSED = exposed_metrics()
# Prometheus' own series of its alerting rules' state (deploy/prometheus/rules.yml).
EXPOSED["ALERTS"] = {"alertname", "alertstate", "severity", "service", "output"} | TARGET_LABELS
QUERIES = dashboard_queries()

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{([^}]*)\}")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_IDENTIFIER = re.compile(r"(?<![\w.:])([A-Za-z_:][\w:]*)\b(?!\s*\()")
_KEYWORDS = {
    "and",
    "or",
    "unless",
    "bool",
    "offset",
    "inf",
    "nan",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
}


def referenced_metrics(expr: str) -> set[str]:
    """Metric names selected by ``expr``: bare identifiers that are not functions or keywords."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub("", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = _GROUPING.sub("", text)
    return {name for name in _IDENTIFIER.findall(text) if name.lower() not in _KEYWORDS}


def referenced_labels(expr: str) -> set[str]:
    """Label names in ``expr``'s matchers and by/without/on/ignoring clauses."""
    text = _STRING.sub('""', expr)
    labels = set()
    for matchers in _MATCHERS.findall(text):
        labels.update(re.findall(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)", matchers))
    for grouping in _GROUPING.findall(text):
        labels.update(name.strip() for name in grouping.split(",") if name.strip())
    return labels


def query_id(query: DashboardQuery) -> str:
    return str(query)


# ------------------------------------------------------------------------------- files


def test_one_dashboard_per_service_word_plus_overview() -> None:
    assert sorted(p.stem for p in DASHBOARDS_DIR.glob("*.json")) == sorted(DASHBOARD_NAMES)


@pytest.mark.parametrize("name", DASHBOARD_NAMES)
def test_dashboard_has_its_word_as_title_and_a_stable_uid(name: str) -> None:
    dashboard = load(name)
    assert dashboard["title"] == name
    assert dashboard["uid"] == f"newswatch-{name}"
    assert dashboard.get("id") is None, "exported for provisioning: no database id"
    assert 36 <= dashboard["schemaVersion"] <= 41
    assert "newswatch" in dashboard["tags"]


@pytest.mark.parametrize("name", DASHBOARD_NAMES)
def test_dashboard_panels_are_well_formed(name: str) -> None:
    panels = list(iter_panels(load(name)["panels"]))
    assert panels
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), f"{name}: duplicate panel ids"
    for panel in panels:
        assert panel.get("type") and panel.get("title"), panel
        assert set(panel["gridPos"]) >= {"h", "w", "x", "y"}
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        if panel["type"] in QUERYLESS_PANELS:
            continue
        refs = [t["refId"] for t in panel["targets"]]
        assert refs and len(refs) == len(set(refs)), f"{name}/{panel['title']}: refIds"


@pytest.mark.parametrize("name", DASHBOARD_NAMES)
def test_every_panel_and_query_uses_the_prometheus_datasource_uid(name: str) -> None:
    for panel in iter_panels(load(name)["panels"]):
        if panel["type"] in QUERYLESS_PANELS:
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": DATASOURCE_UID}, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE_UID, panel["title"]


def test_datasource_is_provisioned_with_the_fixed_uid() -> None:
    config = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yaml").read_text())
    (datasource,) = config["datasources"]
    assert datasource["uid"] == DATASOURCE_UID
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"  # the compose service


def test_dashboard_provider_is_a_file_provider() -> None:
    config = yaml.safe_load((PROVISIONING / "dashboards" / "newswatch.yaml").read_text())
    (provider,) = config["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"].startswith("/")


# ------------------------------------------------------------------------------- PromQL


def test_every_query_parses_with_promtool(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool not found: apt-get install prometheus"
    rules = {
        "groups": [
            {
                "name": "dashboards",
                "rules": [
                    {"record": f"newswatch_dashboard:query{i}", "expr": render_grafana_expr(q.expr)}
                    for i, q in enumerate(QUERIES)
                ],
            }
        ]
    }
    rules_file = tmp_path / "dashboards.rules.yml"
    rules_file.write_text(yaml.safe_dump(rules))
    result = subprocess.run(
        [promtool, "check", "rules", str(rules_file)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    index = "\n".join(f"  rule {i}: {q} : {q.expr}" for i, q in enumerate(QUERIES))
    assert result.returncode == 0, f"{result.stdout}{result.stderr}\n{index}"
    assert f"SUCCESS: {len(QUERIES)} rules found" in result.stdout + result.stderr


def test_promtool_check_rejects_a_broken_query(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool not found: apt-get install prometheus"
    rules_file = tmp_path / "broken.rules.yml"
    rules_file.write_text(
        yaml.safe_dump(
            {
                "groups": [
                    {"name": "g", "rules": [{"record": "x:y", "expr": "sum by (a (rate(b[1m]))"}]}
                ]
            }
        )
    )
    result = subprocess.run(
        [promtool, "check", "rules", str(rules_file)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0


@pytest.mark.parametrize("query", QUERIES, ids=query_id)
def test_query_names_only_metrics_that_shared_metrics_defines(query: DashboardQuery) -> None:
    metrics = referenced_metrics(query.expr)
    assert metrics, f"{query}: no metric in {query.expr}"
    unknown = metrics - set(EXPOSED)
    assert not unknown, f"{query}: {sorted(unknown)} not exposed by shared.metrics"
    allowed_labels = set().union(*(EXPOSED[m] for m in metrics))
    unknown_labels = referenced_labels(query.expr) - allowed_labels
    assert not unknown_labels, f"{query}: labels {sorted(unknown_labels)} not on {sorted(metrics)}"


@pytest.mark.parametrize("query", QUERIES, ids=query_id)
def test_query_uses_the_prometheus_datasource(query: DashboardQuery) -> None:
    assert query.datasource_uid == DATASOURCE_UID


@pytest.mark.parametrize("service", SERVICES)
def test_service_dashboard_shows_only_its_service(service: str) -> None:
    for query in (q for q in QUERIES if q.dashboard == service):
        selectors = re.findall(r'service\s*(=~|!=|!~|=)\s*"([^"]*)"', query.expr)
        assert selectors, f"{query}: no service selector in {query.expr}"
        assert all(s == ("=", service) for s in selectors), f"{query}: {selectors}"


@pytest.mark.parametrize("service", SERVICES)
def test_service_dashboard_covers_the_standard_set_and_its_domain_metrics(service: str) -> None:
    exprs = [q.expr for q in QUERIES if q.dashboard == service]
    used = set().union(*(referenced_metrics(e) for e in exprs))
    domain = {f"news_{name}_total" for name in DOMAIN_METRICS[service]}
    assert used >= {
        "news_messages_consumed_total",
        "news_messages_produced_total",
        "news_dead_letters_total",
        "news_processing_seconds_bucket",
        *domain,
    }
    for metric, label in [
        ("news_messages_consumed_total", "topic"),
        ("news_messages_produced_total", "topic"),
        ("news_dead_letters_total", "reason"),
    ]:
        assert any(metric in e and re.search(rf"by \({label}\)", e) for e in exprs), (
            f"{service}: no {metric} by {label}"
        )
    quantiles = {m for e in exprs for m in re.findall(r"histogram_quantile\((0\.\d+)", e)}
    assert quantiles >= {"0.5", "0.95"}


def test_overview_covers_every_standard_and_domain_metric() -> None:
    used = set().union(*(referenced_metrics(q.expr) for q in QUERIES if q.dashboard == "overview"))
    domain = {f"news_{name}_total" for d in DOMAIN_METRICS.values() for name in d}
    # Eviction housekeeping is dedup's and alerts' own business; the overview shows the flow.
    domain -= {"news_dedup_evicted_total", "news_events_evicted_total"}
    assert used >= {
        "news_messages_consumed_total",
        "news_messages_produced_total",
        "news_dead_letters_total",
        "news_processing_seconds_bucket",
        *domain,
    }


def test_metric_name_extraction() -> None:
    expr = (
        "histogram_quantile(0.95, sum by (service, le) "
        '(rate(news_processing_seconds_bucket{service="dedup", le!="x y"}[$__rate_interval])))'
        " / on (service) group_left sum(up offset 5m) and bool news_x_total"
    )
    assert referenced_metrics(expr) == {"news_processing_seconds_bucket", "up", "news_x_total"}
    assert referenced_labels(expr) == {"service", "le"}


# Grafana's published dashboard schema (the JSON Schema grafana-foundation-sdk generates from
# Grafana's own CUE kinds; deploy/grafana/schema/README.md), checked by the jsonschema library.
SCHEMA = REPO / "deploy" / "grafana" / "schema" / "grafana-dashboard.jsonschema.json"


def dashboard_validator() -> Draft7Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


@pytest.mark.parametrize("name", DASHBOARD_NAMES)
def test_each_dashboard_is_valid_against_grafanas_published_schema(name):
    dashboard = json.loads((DASHBOARDS_DIR / f"{name}.json").read_text(encoding="utf-8"))
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in dashboard_validator().iter_errors(dashboard)
    ]
    assert not errors, errors


def test_the_schema_check_rejects_what_grafana_would_not_read():
    dashboard = json.loads((DASHBOARDS_DIR / "overview.json").read_text(encoding="utf-8"))
    validator = dashboard_validator()
    misspelt = {**dashboard, "panel": dashboard["panels"]}  # a key Grafana does not know
    no_version = {k: v for k, v in dashboard.items() if k != "schemaVersion"}
    bad_grid = json.loads(json.dumps(dashboard))
    bad_grid["panels"][0]["gridPos"]["w"] = "wide"
    for broken in (misspelt, no_version, bad_grid):
        assert list(validator.iter_errors(broken)), broken.keys()
