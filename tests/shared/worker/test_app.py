"""A service's faust configuration: how it talks to Kafka, where its state lives, how Kafka knows it."""

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


def test_a_worker_without_a_name_keeps_its_services_data_dir_and_fausts_client_id():
    conf = app_conf("entities", ServiceSettings(data_dir="/d", group_suffix="-x"))
    assert conf["datadir"] == "/d/entities-x"
    assert "broker_client_id" not in conf


def test_two_named_workers_of_one_service_get_their_own_data_dirs_and_client_ids():
    first, second = (
        app_conf("entities", ServiceSettings(data_dir="/d", group_suffix="-x", worker_name=name))
        for name in ("entities", "entities-2")
    )
    assert first["datadir"] == "/d/entities-x"  # the first worker's is the single worker's
    assert second["datadir"] == "/d/entities-2-x"
    assert (first["broker_client_id"], second["broker_client_id"]) == ("entities", "entities-2")
