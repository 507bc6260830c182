"""The worker processes of ``newswatch run``: how many per service, their names and /metrics ports.

A service's first worker is named by the service word, so a run of one worker each looks as it
always did; the others are ``<service>-2``, ``<service>-3``, … Every name is a key of the
supervisor (restarts and tries), of the local Prometheus's targets and of a log file; metrics keep
the service word as their ``service`` label.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from services.stages import sources
from shared.metrics import worker_port
from shared.topics import SERVICES


class Worker(NamedTuple):
    """One worker process ``newswatch run`` starts and supervises."""

    name: str  # the service word for its first worker, then <service>-2, <service>-3, …
    service: str
    number: int  # 1-based within its service
    metrics_port: int


def worker_name(service: str, number: int) -> str:
    """``entities`` for a service's first worker, ``entities-2`` for its second."""
    return service if number == 1 else f"{service}-{number}"


def worker_counts(
    setting: Mapping[str, int], flags: Iterable[tuple[str, int]] = ()
) -> dict[str, int]:
    """Workers per service, every service present: 1, NEWS_RUN_WORKERS's count, or ``--workers``'s.

    A service named by a flag takes the flag's count (the last one, if named twice); the others
    keep the setting's.
    """
    counts = {**setting, **dict(flags)}
    return {service: counts.get(service, 1) for service in SERVICES}


def plan_workers(counts: Mapping[str, int], metrics_base: int) -> list[Worker]:
    """Every worker of the run, in pipeline order, each with its /metrics port."""
    return [
        Worker(worker_name(service, n), service, n, worker_port(metrics_base, service, n))
        for service in SERVICES
        for n in range(1, counts.get(service, 1) + 1)
    ]


def idle_workers(counts: Mapping[str, int], default_partitions: int) -> list[str]:
    """One line per service given more workers than its input has partitions: the extra ones idle.

    Kafka gives each partition of a group's topics to one member, so a member past the partition
    count gets none; it stays in the group and takes over a partition when a sibling leaves.
    """
    lines = []
    for service, specs in sources().items():
        most = max(spec.partitions or default_partitions for spec in specs)
        if counts.get(service, 1) > most:
            names = " and ".join(spec.name for spec in specs)
            lines.append(
                f"{service}: {counts[service]} workers for {most} partition(s) of {names}; "
                f"{counts[service] - most} would idle, standing by for a sibling's partitions"
            )
    return lines
