"""The alerting rules: valid for promtool, each firing and quiet in its unit tests, loaded everywhere."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from cli.prometheus import RULES, load_rules, local_config, rules_with_stall_window

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"
RULE_NAMES = {
    "NewswatchPipelineStalled",
    "NewswatchDeadLettersHigh",
    "NewswatchServiceDown",
    "NewswatchEndToEndSlow",
    "NewswatchRestartsRepeating",
}


def promtool(*args: str, cwd: Path = DEPLOY) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary, "promtool not found: apt-get install prometheus"
    return subprocess.run(
        [binary, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_rules_are_valid_for_promtool():
    result = promtool("check", "rules", "rules.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(RULE_NAMES)} rules found" in result.stdout


def test_every_rule_fires_and_stays_quiet_in_its_unit_tests():
    result = promtool("test", "rules", "rules_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    tested = yaml.safe_load((DEPLOY / "rules_test.yml").read_text())["tests"]
    fired = {c["alertname"] for t in tested for c in t["alert_rule_test"] if c["exp_alerts"]}
    quiet = {c["alertname"] for t in tested for c in t["alert_rule_test"] if not c["exp_alerts"]}
    assert fired == quiet == RULE_NAMES
    # each firing case has quiet series beside the one that fires
    for case in (c for t in tested for c in t["alert_rule_test"] if c["exp_alerts"]):
        assert len(case["exp_alerts"]) == 1


@pytest.mark.parametrize("rule", sorted(RULE_NAMES))
def test_every_rule_has_a_severity_a_summary_and_a_description(rule):
    (found,) = [r for g in load_rules()["groups"] for r in g["rules"] if r["alert"] == rule]
    assert found["labels"]["severity"] in {"page", "warn"}
    assert found["annotations"]["summary"] and found["annotations"]["description"]


def test_a_shorter_stall_window_renders_valid_rules(tmp_path):
    rules = rules_with_stall_window(load_rules(), "30s", "5s")
    (stall,) = [
        r for g in rules["groups"] for r in g["rules"] if r["alert"] == "NewswatchPipelineStalled"
    ]
    assert "[30s]" in stall["expr"] and "[5m]" not in stall["expr"] and stall["for"] == "5s"
    (tmp_path / "rules.yml").write_text(yaml.safe_dump(rules))
    result = promtool("check", "rules", "rules.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_and_the_local_prometheus_load_the_same_rules(tmp_path):
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    assert config["rule_files"] == ["rules.yml"] and RULES == DEPLOY / "rules.yml"
    compose = yaml.safe_load((DEPLOY.parents[1] / "docker-compose.yml").read_text())
    volumes = compose["services"]["prometheus"]["volumes"]
    assert "./deploy/prometheus/rules.yml:/etc/prometheus/rules.yml:ro" in volumes
    local = local_config({"clean": "127.0.0.1:9101", "run": "127.0.0.1:9106"}, ["rules.yml"])
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(local))
    shutil.copy(RULES, tmp_path / "rules.yml")
    result = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
