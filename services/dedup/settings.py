"""dedup's settings: the shared NEWS_* set plus the index window and eviction cadence."""

from pydantic import Field

from shared.settings import ServiceSettings


class DedupSettings(ServiceSettings):
    """Settings of the dedup service."""

    dedup_window_days: float = Field(default=30.0, gt=0)  # articles older than this leave the index
    dedup_evict_every_s: float = Field(default=300.0, gt=0)
