"""Fixtures for the clean stage's tests: the ingest clock, the language detector, a text cleaner."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from services.clean.core import build_language_detector, clean_article
from shared.schemas import CleanArticle, RawArticle
from tests.services.clean.factories import SEED_INGEST


@pytest.fixture(scope="session")
def detector():
    """The lingua detector, built once like the app builds it."""
    return build_language_detector()


@pytest.fixture
def now() -> datetime:
    """A fixed ingest time."""
    return SEED_INGEST


@pytest.fixture
def clean_text(now) -> Callable[..., list[CleanArticle]]:
    """Factory: clean a plain text (or RawArticle fields) at the fixed ingest time."""

    def _clean(text: str, *, detector=None, **fields) -> list[CleanArticle]:
        return clean_article(RawArticle(text=text, **fields), ingested_at=now, detector=detector)

    return _clean
