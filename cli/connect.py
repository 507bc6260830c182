"""How the ``newswatch`` commands reach Kafka: bootstrap, partitions and security from the NEWS_* settings, and one-line errors."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kafka.errors import KafkaError
from pydantic import ValidationError

from shared.admin import KafkaAccessError, reveal_access_failures
from shared.security import kafka_python_kwargs
from shared.settings import ServiceSettings


def partitions_of(args: argparse.Namespace) -> int:
    """The partition count a command asked for (``--partitions``), else NEWS_TOPIC_PARTITIONS."""
    return getattr(args, "partitions", None) or ServiceSettings().topic_partitions


def bootstrap_of(args: argparse.Namespace) -> str:
    """The bootstrap servers a command asked for (``--bootstrap``), else NEWS_KAFKA_BOOTSTRAP."""
    return getattr(args, "bootstrap", None) or ServiceSettings().kafka_bootstrap


def kafka_security() -> dict[str, Any]:
    """kafka-python's security keyword arguments from the NEWS_KAFKA_* settings (shared.security).

    For every kafka-python client the CLI makes: ``KafkaProducer(..., **kafka_security())``.
    Inconsistent settings stop the command with the settings' own message.
    """
    try:
        return kafka_python_kwargs(ServiceSettings())
    except ValidationError as error:
        raise SystemExit(f"newswatch: invalid NEWS_* settings: {error}") from None


@contextmanager
def connecting(bootstrap: str, security: dict[str, Any]) -> Iterator[None]:
    """Around a kafka-python client's construction: a refused login or no broker ends the command with one line."""
    try:
        with reveal_access_failures(bootstrap, security):
            yield
    except KafkaAccessError as error:
        raise SystemExit(f"newswatch: {error}") from None
    except KafkaError as error:
        raise SystemExit(f"newswatch: cannot connect to Kafka at {bootstrap}: {error}") from None
