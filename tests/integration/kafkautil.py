"""Test helpers over kafka-python: produce bytes, read a topic from the start, wait for a group to catch up."""

from __future__ import annotations

import time

from kafka.admin import KafkaAdminClient

from evaluation.pipeline import TopicReader, produce, wait_caught_up

__all__ = ["TopicReader", "produce", "wait_caught_up", "wait_for_empty_group"]


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
