"""`newswatch run`'s workers: how many per service, their names, ports, and which would idle."""

from __future__ import annotations

from cli.workers import Worker, idle_workers, plan_workers, worker_counts
from shared.metrics import DEFAULT_PORTS, RUN_PORT
from shared.topics import SERVICES


def test_one_worker_each_is_named_and_served_as_a_run_always_was():
    plan = plan_workers(worker_counts({}), 9101)
    assert [(w.name, w.metrics_port) for w in plan] == [
        (svc, DEFAULT_PORTS[svc]) for svc in SERVICES
    ]


def test_a_services_first_worker_is_named_by_the_service_and_the_others_numbered():
    plan = plan_workers(worker_counts({"entities": 3, "alerts": 2}), 9101)
    assert [w.name for w in plan] == [
        "clean", "dedup", "entities", "entities-2", "entities-3", "stories", "alerts", "alerts-2",
    ]  # fmt: skip
    assert plan[3] == Worker("entities-2", "entities", 2, 9113)
    ports = [w.metrics_port for w in plan]
    assert len(set(ports)) == len(ports) and RUN_PORT not in ports


def test_the_flag_wins_over_the_setting_for_the_services_it_names():
    counts = worker_counts({"entities": 2, "alerts": 2}, [("entities", 3), ("clean", 2)])
    assert counts == {"clean": 2, "dedup": 1, "entities": 3, "stories": 1, "alerts": 2}
    assert worker_counts({}, [("entities", 2), ("entities", 4)])["entities"] == 4


def test_more_workers_than_the_inputs_partitions_is_said_in_one_line_a_service():
    assert idle_workers(worker_counts({"entities": 2, "alerts": 2}), 2) == []
    lines = idle_workers(worker_counts({"entities": 3, "dedup": 2}), 2)
    assert lines == [
        # news.clean-article.v1 has one partition whatever --partitions says (shared.topics)
        "dedup: 2 workers for 1 partition(s) of news.clean-article.v1; 1 would idle, "
        "standing by for a sibling's partitions",
        "entities: 3 workers for 2 partition(s) of news.unique-article.v1; 1 would idle, "
        "standing by for a sibling's partitions",
    ]
    (alerts,) = idle_workers(worker_counts({"alerts": 4}), 3)
    assert alerts.startswith("alerts: 4 workers for 3 partition(s) of news.storied-article.v1 and")
