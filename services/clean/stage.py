"""clean's stage: consumes news.raw-article.v1, produces news.clean-article.v1 (one per story), dead-letters news.clean.dlq."""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

from services.clean import core
from services.clean.settings import CleanSettings
from shared.metrics import ServiceMetrics
from shared.schemas import Message
from shared.stage import Handler, Stage
from shared.topics import CLEAN_ARTICLES, RAW_ARTICLES


def build(settings: CleanSettings, store: MutableMapping[str, Any] | None, metrics: ServiceMetrics) -> Handler:
    """The language detector is built once (lingua's models take a while to load)."""
    detector = core.build_language_detector()

    def handle(value: bytes) -> list[Message]:
        """Raw bytes (JSON object or plain text) → one clean article per story."""
        raw = core.decode_raw(value, max_bytes=settings.clean_max_bytes)
        return list(core.clean_article(raw, ingested_at=datetime.now(UTC), detector=detector,
                                       max_text_chars=settings.clean_max_text_chars,
                                       max_lines=settings.clean_max_lines,
                                       max_html_tags=settings.clean_max_html_tags))

    return handle


STAGE = Stage("clean", RAW_ARTICLES, (CLEAN_ARTICLES,), CleanSettings, build)
