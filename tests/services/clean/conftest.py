"""Fixtures for the clean stage's core tests: the ingest clock, the language detector, data paths."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.clean.core import build_language_detector, clean_article
from shared.schemas import CleanArticle, RawArticle

ROOT = Path(__file__).resolve().parents[3]
SEEDS = ROOT / "seeds"
GOLDEN = Path(__file__).parent / "golden"
# Research-only corpora: read in place at test time, never copied into the repository.
DATA = ROOT.parent / "shared" / "data"

# The seeds were scraped in early April 2019 ("7 days ago" next to March 28).
SEED_INGEST = datetime(2019, 4, 4, 12, 0, tzinfo=UTC)


def shared_data(*parts: str) -> Path:
    """Path into ../shared/data; a missing corpus fails the test (it must never pass by skipping)."""
    path = DATA.joinpath(*parts)
    assert path.exists(), f"research corpus not available: {path} (../shared/data must sit beside the repo)"
    return path


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
