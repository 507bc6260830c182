"""The local Prometheus's config: a job per service, a target per worker, labels that keep the series' own."""

from __future__ import annotations

import shutil
import subprocess

import yaml

from cli.prometheus import local_config


def test_a_services_workers_are_one_job_told_apart_by_their_worker_label(tmp_path):
    config = local_config(
        {"entities": "127.0.0.1:9103", "entities-2": "127.0.0.1:9113", "run": "127.0.0.1:9106"},
        [],
        jobs={"entities": "entities", "entities-2": "entities"},
    )
    assert config["scrape_configs"] == [
        {
            "job_name": "entities",
            "static_configs": [
                {"targets": ["127.0.0.1:9103"], "labels": {"worker": "entities"}},
                {"targets": ["127.0.0.1:9113"], "labels": {"worker": "entities-2"}},
            ],
        },
        {"job_name": "run", "static_configs": [{"targets": ["127.0.0.1:9106"]}]},
    ]
    # never a target label `service`: the scraped series' own would become exported_service
    labels = [
        s.get("labels", {}) for job in config["scrape_configs"] for s in job["static_configs"]
    ]
    assert not any("service" in label for label in labels)
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    promtool = shutil.which("promtool")
    assert promtool, "promtool not found: apt-get install prometheus"
    checked = subprocess.run(
        [promtool, "check", "config", "prometheus.yml"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_without_jobs_each_target_is_its_own_job_as_before():
    config = local_config({"clean": "127.0.0.1:9101"}, ["rules.yml"])
    assert config["scrape_configs"] == [
        {"job_name": "clean", "static_configs": [{"targets": ["127.0.0.1:9101"]}]}
    ]
