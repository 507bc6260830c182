"""dedup's settings: the shared NEWS_* set plus the index window and when expired articles leave it."""

from datetime import timedelta

from pydantic import Field

from shared.settings import ServiceSettings


class DedupSettings(ServiceSettings):
    """Settings of the dedup service."""

    dedup_window_days: float = Field(
        default=30.0,
        gt=0,
        description="An article is compared only with articles ingested at most this long before "
        "it (reads ignore older ones at once; eviction removes them from the store).",
    )
    # Measured in article time (ingested_at), not on the wall clock, so a replay and `newswatch
    # process` evict where the worker did. The index is kept in one-hour slots, so any value up
    # to an hour evicts each hour as soon as it expires.
    dedup_evict_every_ingested_s: float = Field(
        default=300.0,
        ge=0,
        description="Expired articles are evicted once the oldest hour of them has been outside "
        "the window this long, in article time; the index holds at most window + this + one hour.",
    )

    @property
    def window(self) -> timedelta:
        """``dedup_window_days`` as the core takes it."""
        return timedelta(days=self.dedup_window_days)

    @property
    def evict_every(self) -> timedelta:
        """``dedup_evict_every_ingested_s`` as the core takes it."""
        return timedelta(seconds=self.dedup_evict_every_ingested_s)
