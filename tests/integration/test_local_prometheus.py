"""`newswatch run` starts the installed Prometheus: its URL in one line, ready, every worker and the supervisor up."""

from __future__ import annotations

import json
import re
import time
import urllib.request

from shared.topics import SERVICES


def test_run_prints_a_prometheus_url_that_is_ready_and_scrapes_every_worker(pipeline):
    lines = [line for line in pipeline.output if "newswatch: Prometheus at " in line]
    assert len(lines) == 1, "".join(pipeline.output[-30:])
    url = re.search(r"Prometheus at (http://127\.0\.0\.1:\d+)", lines[0]).group(1)
    with urllib.request.urlopen(f"{url}/-/ready", timeout=5) as response:
        assert response.status == 200
    deadline = time.monotonic() + 60
    while True:
        with urllib.request.urlopen(f"{url}/api/v1/targets", timeout=5) as response:
            targets = json.load(response)["data"]["activeTargets"]
        health = {t["labels"]["job"]: t["health"] for t in targets}
        if set(health) == {*SERVICES, "run"} and set(health.values()) == {"up"}:
            break
        assert time.monotonic() < deadline, health
        time.sleep(1)
    with urllib.request.urlopen(f"{url}/api/v1/rules", timeout=5) as response:
        rules = json.load(response)["data"]["groups"]
    assert {r["name"] for g in rules for r in g["rules"]} >= {"NewswatchPipelineStalled"}
