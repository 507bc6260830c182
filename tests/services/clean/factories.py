"""Test factories and data paths for the clean stage's tests: seeds, golden text, public corpora (``NEWS_CORPORA_DIR``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evaluation.settings import corpora_dir
from services.clean.core import clean_article, decode_raw
from shared.schemas import CleanArticle

ROOT = Path(__file__).resolve().parents[3]
SEEDS = ROOT / "seeds"
GOLDEN = Path(__file__).parent / "golden"

# The seeds were scraped in early April 2019 ("7 days ago" next to March 28).
SEED_INGEST = datetime(2019, 4, 4, 12, 0, tzinfo=UTC)


def shared_data(*parts: str) -> Path:
    """Path into the research corpora (read in place at test time, never copied into the repository;
    ``NEWS_CORPORA_DIR``, default ../shared/data); a missing corpus fails the test (it must never pass by skipping)."""
    path = corpora_dir().joinpath(*parts)
    assert path.exists(), (
        f"research corpus not available: {path} (set NEWS_CORPORA_DIR, default ../shared/data)"
    )
    return path


def seed_path(prefix: str) -> Path:
    """The seed file whose name starts with ``prefix`` ("000" ... "004")."""
    return next(SEEDS.glob(f"{prefix}_*.txt"))


def clean_seed(prefix: str, detector: Any = None) -> list[CleanArticle]:
    """The seed's bytes, decoded and cleaned at the seeds' ingest time."""
    raw = decode_raw(seed_path(prefix).read_bytes())
    return clean_article(raw, ingested_at=SEED_INGEST, detector=detector)


def golden(name: str) -> str:
    """A golden file's text (hand-reviewed expected output), without its final newline."""
    return (GOLDEN / name).read_text(encoding="utf-8").rstrip("\n")
