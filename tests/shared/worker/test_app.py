"""The faust settings every worker's app gets: how it talks to Kafka."""

from __future__ import annotations

from pathlib import Path

from shared.settings import ServiceSettings
from shared.worker.app import app_conf


def test_the_producer_lingers_to_batch_outputs_and_changelog_records(tmp_path: Path) -> None:
    conf = app_conf("dedup", ServiceSettings(data_dir=str(tmp_path)))
    assert conf["producer_linger"] == ServiceSettings().producer_linger_ms / 1000 > 0
    assert conf["stream_buffer_maxsize"] == ServiceSettings().stream_buffer_size


def test_an_operator_can_send_at_once(tmp_path: Path) -> None:
    conf = app_conf("dedup", ServiceSettings(data_dir=str(tmp_path), producer_linger_ms=0))
    assert conf["producer_linger"] == 0.0
    assert conf["datadir"] == f"{tmp_path}/dedup"
