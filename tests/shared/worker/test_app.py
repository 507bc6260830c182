"""A service's faust configuration: where its state lives and how its consumer is known to Kafka."""

from __future__ import annotations

from shared.settings import ServiceSettings
from shared.worker.app import app_conf


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
