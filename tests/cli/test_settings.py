"""The environment a worker started by `newswatch run` inherits."""

from __future__ import annotations

import pytest

from cli.settings import WORKER_MALLOC, child_environment


def test_a_worker_gets_a_fixed_mmap_threshold_and_the_overrides(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.setenv("NEWS_LOG_LEVEL", "debug")
    env = child_environment({"NEWS_METRICS_PORT": "9999"})
    assert env["MALLOC_MMAP_THRESHOLD_"] == WORKER_MALLOC["MALLOC_MMAP_THRESHOLD_"] == "131072"
    assert env["NEWS_LOG_LEVEL"] == "debug"
    assert env["NEWS_METRICS_PORT"] == "9999"


def test_the_operators_own_malloc_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert child_environment({})["MALLOC_MMAP_THRESHOLD_"] == "65536"
