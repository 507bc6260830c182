"""Test helpers over kafka-python: produce bytes, read a topic from the start, wait for a group to catch up."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError


def produce(bootstrap: str, topic: str, values: list[bytes], key: bytes | None = None) -> None:
    """Send values in order and wait for the broker's acknowledgement."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for value in values:
            producer.send(topic, value=value, key=key).get(timeout=30)
    finally:
        producer.close(timeout=10)


class TopicReader:
    """Reads a whole topic from the beginning (no group), accumulating records as they arrive."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        partitions = self.consumer.partitions_for_topic(topic)
        assert partitions, f"topic {topic} does not exist"
        self.consumer.assign([TopicPartition(topic, p) for p in partitions])
        self.consumer.seek_to_beginning()
        self.records: list[Any] = []

    def poll(self) -> list[Any]:
        """Fetch what has arrived since the last call; returns all records so far."""
        for batch in self.consumer.poll(timeout_ms=500).values():
            self.records.extend(batch)
        return self.records

    def wait_for(
        self, predicate: Callable[[list[Any]], bool], timeout: float, what: str
    ) -> list[Any]:
        """Poll until ``predicate(records)`` holds; fail with what was seen otherwise."""
        deadline = time.monotonic() + timeout
        while not predicate(self.poll()):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.topic}: {what} not seen within {timeout:.0f} s "
                    f"({len(self.records)} records read)"
                )
        return self.records

    def read_to_end(self, timeout: float = 60) -> list[Any]:
        """Poll until every partition is read up to its end offset as of this call; returns all records so far."""
        assignment = list(self.consumer.assignment())
        ends = self.consumer.end_offsets(assignment)
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            if all(self.consumer.position(tp) >= end for tp, end in ends.items()):
                return self.records
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.topic}: not read to its end within {timeout:.0f} s")

    def close(self) -> None:
        self.consumer.close()


def wait_caught_up(bootstrap: str, group: str, topic: str, timeout: float) -> None:
    """Wait until ``group`` has committed offsets at the end of every partition of ``topic``."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []]
        deadline = time.monotonic() + timeout
        while True:
            ends = consumer.end_offsets(partitions)
            try:
                committed = admin.list_group_offsets(group).get(group, {})
            except KafkaError:  # coordinator not there yet
                committed = {}
            lag = {
                tp: end - (committed[tp].offset if tp in committed else 0)
                for tp, end in ends.items()
            }
            if all(v <= 0 for v in lag.values()):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"group {group} still behind on {topic}: {lag}")
            time.sleep(0.5)
    finally:
        admin.close()
        consumer.close()


def wait_for_empty_group(bootstrap: str, group: str, timeout: float) -> None:
    """Wait until the consumer group has no members (the broker expired the killed one)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            info = admin.describe_groups([group]).get(group, {})
            if not info.get("members"):
                return
            time.sleep(0.5)
        raise AssertionError(f"group {group} still has members after {timeout:.0f} s")
    finally:
        admin.close()
