"""Consumer-group progress: lag and committed offsets, read with kafka-python."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient


@dataclass(frozen=True)
class Progress:
    """One consumer group's state: records not yet committed, its committed offsets, and whether it is rebalancing.

    ``members``: the same for each member the probe recognises (by its Kafka client id, which
    ``newswatch run`` sets to the worker's name), over the partitions assigned to it.
    """

    lag: int
    committed: tuple[tuple[str, int, int], ...]  # (topic, partition, offset), sorted
    rebalancing: bool = False  # PreparingRebalance/CompletingRebalance: waiting, not stalled
    members: Mapping[str, Progress] = field(default_factory=dict, hash=False)


_REBALANCING = frozenset({"PreparingRebalance", "CompletingRebalance"})


class GroupProgress:
    """Reads each service's consumer-group lag and committed offsets (kafka-python admin and consumer)."""

    def __init__(
        self,
        bootstrap: str,
        groups: Mapping[str, str],
        sources: Mapping[str, Sequence[str]],
        client_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.bootstrap = bootstrap
        self.groups = dict(groups)  # service -> group id
        self.sources = dict(sources)  # service -> the topics it consumes
        self.client_kwargs = dict(client_kwargs or {})
        self._admin: Any = None
        self._consumer: Any = None

    def _clients(self) -> tuple[Any, Any]:
        if self._admin is None:
            common = {
                "bootstrap_servers": self.bootstrap.split(","),
                "request_timeout_ms": 5000,
                **self.client_kwargs,
            }
            self._admin = KafkaAdminClient(client_id="newswatch-run-supervisor", **common)
            self._consumer = KafkaConsumer(
                client_id="newswatch-run-supervisor", enable_auto_commit=False, **common
            )
        return self._admin, self._consumer

    def __call__(self) -> dict[str, Progress]:
        """Lag and committed offsets of every group; raises (and reconnects next time) on errors."""
        try:
            admin, consumer = self._clients()
            described = admin.describe_groups(list(self.groups.values()))
            result = {}
            for service, group in self.groups.items():
                info = described.get(group, {})
                rebalancing = info.get("group_state") in _REBALANCING
                committed = admin.list_group_offsets(group).get(group, {})
                result[service] = self._progress(
                    consumer, service, group, committed, rebalancing, assignments(info)
                )
            return result
        except Exception:
            self.close()
            raise

    def _progress(
        self,
        consumer: Any,
        service: str,
        group: str,
        committed: Any,
        rebalancing: bool,
        members: Mapping[str, set[TopicPartition]],
    ) -> Progress:
        """One group's progress from its committed offsets and its topics' end offsets, and each member's."""
        parts = {tp for tp in committed if not tp.topic.startswith(group)}  # not faust's own
        for topic in self.sources.get(service, ()):
            parts |= {TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()}
        if not parts:
            return Progress(0, (), rebalancing)
        ends = consumer.end_offsets(list(parts))
        starts = consumer.beginning_offsets([tp for tp in parts if tp not in committed])
        lags = {}
        for tp, end in ends.items():
            done = (
                committed[tp].offset
                if tp in committed and committed[tp].offset >= 0
                else starts.get(tp, 0)
            )
            lags[tp] = max(0, end - done)
        signature = tuple(
            sorted((tp.topic, tp.partition, om.offset) for tp, om in committed.items())
        )

        def member(assigned: set[TopicPartition]) -> Progress:
            # Its source partitions only (a faust member is also assigned changelogs); the
            # assignment is part of the signature, so a new one counts as progress.
            mine = assigned & set(lags)
            return Progress(
                sum(lags[tp] for tp in mine),
                tuple(
                    sorted(
                        (tp.topic, tp.partition, committed[tp].offset if tp in committed else -1)
                        for tp in mine
                    )
                ),
                rebalancing,
            )

        return Progress(
            sum(lags.values()),
            signature,
            rebalancing,
            {name: member(assigned) for name, assigned in members.items()},
        )

    def close(self) -> None:
        """Close the clients (they are opened again on the next call)."""
        for client in (self._admin, self._consumer):
            if client is not None:
                try:
                    client.close()
                except Exception:  # noqa: BLE001, S110 — closing a client of a dead broker
                    pass
        self._admin = self._consumer = None


def assignments(described: Mapping[str, Any]) -> dict[str, set[TopicPartition]]:
    """Each member's assigned partitions by its client id, from one group of ``describe_groups``.

    Members sharing a client id (a restarted worker and its predecessor, until the old session
    expires) are merged; an assignment kafka-python could not decode is left out.
    """
    found: dict[str, set[TopicPartition]] = {}
    for member in described.get("members") or ():
        assignment = member.get("member_assignment")
        if not isinstance(assignment, Mapping):
            continue
        parts = found.setdefault(member.get("client_id") or "", set())
        parts |= set(_partitions(assignment.get("assigned_partitions") or ()))
    found.pop("", None)
    return found


def _partitions(assigned: Iterable[Mapping[str, Any]]) -> Iterable[TopicPartition]:
    for topic in assigned:
        for partition in topic.get("partitions") or ():
            yield TopicPartition(topic["topic"], int(partition))
