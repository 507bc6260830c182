"""Consumer-group progress: lag and committed offsets, read with kafka-python."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient


@dataclass(frozen=True)
class Progress:
    """One consumer group's state: records not yet committed, its committed offsets, and whether it is rebalancing."""

    lag: int
    committed: tuple[tuple[str, int, int], ...]  # (topic, partition, offset), sorted
    rebalancing: bool = False  # PreparingRebalance/CompletingRebalance: waiting, not stalled


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
                rebalancing = described.get(group, {}).get("group_state") in _REBALANCING
                committed = admin.list_group_offsets(group).get(group, {})
                result[service] = self._progress(consumer, service, group, committed, rebalancing)
            return result
        except Exception:
            self.close()
            raise

    def _progress(
        self, consumer: Any, service: str, group: str, committed: Any, rebalancing: bool
    ) -> Progress:
        """One group's progress from its committed offsets and its topics' end offsets."""
        parts = {tp for tp in committed if not tp.topic.startswith(group)}  # not faust's own
        for topic in self.sources.get(service, ()):
            parts |= {TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()}
        if not parts:
            return Progress(0, (), rebalancing)
        ends = consumer.end_offsets(list(parts))
        starts = consumer.beginning_offsets([tp for tp in parts if tp not in committed])
        lag = 0
        for tp, end in ends.items():
            done = (
                committed[tp].offset
                if tp in committed and committed[tp].offset >= 0
                else starts.get(tp, 0)
            )
            lag += max(0, end - done)
        signature = tuple(
            sorted((tp.topic, tp.partition, om.offset) for tp, om in committed.items())
        )
        return Progress(lag, signature, rebalancing)

    def close(self) -> None:
        """Close the clients (they are opened again on the next call)."""
        for client in (self._admin, self._consumer):
            if client is not None:
                try:
                    client.close()
                except Exception:  # noqa: BLE001, S110 — closing a client of a dead broker
                    pass
        self._admin = self._consumer = None
