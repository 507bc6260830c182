"""clean's settings: the shared NEWS_* set plus NEWS_CLEAN_MAX_BYTES."""

from pydantic import Field

from shared.settings import ServiceSettings


class CleanSettings(ServiceSettings):
    """Settings of the clean service."""

    clean_max_bytes: int = Field(
        default=2_000_000, ge=1
    )  # larger inputs are dead-lettered as oversize
