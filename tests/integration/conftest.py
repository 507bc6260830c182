"""Integration fixtures: the project's own Kafka broker (never skipped) and `newswatch run` against it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from cli.broker import LocalKafka, free_port
from tests.integration.harness import RunningPipeline, running_pipeline


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration needs the broker: mark it so `-m integration` selects it."""
    for item in items:
        if "tests/integration/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real single-node KRaft broker on free loopback ports with fresh storage.

    If it cannot start, ``start`` raises with the broker's log tail and every test using it errors:
    an integration run never passes without a broker.
    """
    broker = LocalKafka(
        port=free_port(),
        controller_port=free_port(),
        data_dir=tmp_path_factory.mktemp("kafka") / "data",
        fresh=True,
    )
    bootstrap = broker.start()
    try:
        yield bootstrap
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def pipeline(kafka: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPipeline]:
    """`newswatch run` against the session broker, shared by the end-to-end tests."""
    with running_pipeline(kafka, tmp_path_factory.mktemp("pipeline")) as running:
        yield running
