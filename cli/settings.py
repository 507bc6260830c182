"""The operator side's settings: the ``newswatch`` command's own, the development broker's, and the environment its workers inherit.

The only place in ``cli`` that reads the process environment (through pydantic-settings, or
``os.environ`` where a child process must inherit all of it).
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.settings import RunSettings


class CliSettings(RunSettings):
    """The ``newswatch`` command's own: the consumer group ``newswatch alerts`` reads with."""

    alerts_group: str = Field(
        default="newswatch-cli-alerts",
        description="The consumer group newswatch alerts reads with: it remembers what was shown.",
    )


class BrokerSettings(BaseSettings):
    """The development broker's: which Java runs it (``JAVA_HOME``, as Kafka's own scripts read it)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", env_ignore_empty=True)

    java_home: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("JAVA_HOME"),
        description="The Java that runs the development broker; unset: java on the PATH.",
    )


def child_environment(overrides: dict[str, str]) -> dict[str, str]:
    """This process's environment with ``overrides`` applied: what a worker started by ``newswatch run`` inherits.

    A worker reads its own NEWS_* settings, so it must see every variable the operator set (secured
    Kafka, stores, limits), plus the bootstrap and ports that ``run`` chose for it.
    """
    return {**WORKER_MALLOC, **os.environ, **overrides}


# glibc raises its mmap threshold each time a large block is freed, after which 2 MB inputs come
# from the heap and fragment it: a worker fed 20,000 bad inputs grew 84 -> 116 MB, with the
# threshold fixed it stayed at 77-78 (tests/integration/test_bad_input.py). The operator's own
# value wins; the Dockerfile sets the same.
WORKER_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}


def tool_environment() -> dict[str, str]:
    """This process's environment without the NEWS_* settings: what a tool ``run`` starts (Prometheus) inherits."""
    return {k: v for k, v in os.environ.items() if not k.startswith("NEWS_")}
