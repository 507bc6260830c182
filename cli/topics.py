"""``newswatch topics``: create every topic of ``shared.topics`` that does not exist yet."""

from __future__ import annotations

import argparse

from cli.connect import bootstrap_of, kafka_security, partitions_of
from shared.admin import BrokerError, ensure_topics
from shared.topics import TOPICS


def cmd_topics(args: argparse.Namespace) -> int:
    """Create every topic in shared.topics that does not exist yet."""
    try:
        created = ensure_topics(
            bootstrap_of(args), TOPICS, partitions_of(args), security=kafka_security()
        )
    except BrokerError as error:  # KafkaAccessError included: a refused login says so
        raise SystemExit(f"newswatch: {error}") from None
    print(f"topics: {len(created)} created, {len(TOPICS) - len(created)} already there")
    return 0
