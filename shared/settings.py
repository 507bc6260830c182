"""Settings every service shares, read from ``NEWS_*`` environment variables (defaults in deploy/.env)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_BOOTSTRAP = "127.0.0.1:19092"


class ServiceSettings(BaseSettings):
    """Base settings; each service subclasses it in ``services/<svc>/settings.py``."""

    model_config = SettingsConfigDict(env_prefix="NEWS_", frozen=True, extra="ignore")

    # NEWS_KAFKA_BOOTSTRAP is the documented name; NEWS_KAFKA_BROKER (STYLE.md) is accepted too.
    kafka_bootstrap: str = Field(
        default=DEFAULT_BOOTSTRAP,
        validation_alias=AliasChoices("NEWS_KAFKA_BOOTSTRAP", "NEWS_KAFKA_BROKER"),
    )
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0  # 0: the service's own default port (shared.metrics.DEFAULT_PORTS)
    log_level: str = "info"
    topic_partitions: int = Field(default=3, ge=1)
    # How long a restarted worker waits before the group hands its partitions to someone else;
    # faust's 60 s default made a restarted worker idle for ~110 s (notes/faust-lessons.md).
    session_timeout_s: float = 10.0
    # Appended to each faust app id (= consumer group), so tests can run isolated pipelines.
    group_suffix: str = ""
    data_dir: str = ".cache/faust"
    # Where faust keeps table state (dedup's index): "memory://" rebuilds it from the changelog at
    # every start; "rocksdb://" keeps it on disk under data_dir (memory bounded, faster restarts).
    table_store: str = "memory://"
