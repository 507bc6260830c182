"""clean's handler: raw bytes (JSON object or plain text) → one clean article per story."""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

from services.clean import core
from services.clean.settings import CleanSettings
from shared.stage import Handled, Handler


def build(settings: CleanSettings, store: MutableMapping[str, Any] | None = None) -> Handler:
    """The language detector is built once (lingua's models take a while to load)."""
    detector = core.build_language_detector()

    def handle(value: bytes) -> Handled:
        """Raw bytes (JSON object or plain text) → one clean article per story."""
        raw = core.decode_raw(value, max_bytes=settings.clean_max_bytes)
        return Handled(
            tuple(
                core.clean_article(
                    raw,
                    ingested_at=datetime.now(UTC),
                    detector=detector,
                    max_text_chars=settings.clean_max_text_chars,
                    max_lines=settings.clean_max_lines,
                    max_html_tags=settings.clean_max_html_tags,
                )
            )
        )

    return handle
