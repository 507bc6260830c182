"""Fixtures for the dedup tests: CleanArticle factories and the seed articles, split as the clean stage will."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from shared.schemas import CleanArticle

SEEDS = Path(__file__).resolve().parents[3] / "seeds"
T0 = datetime(2019, 3, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def make_article() -> Callable[..., CleanArticle]:
    """Build a CleanArticle from an id and a text (other fields optional)."""

    def make(article_id: str, text: str, **fields: object) -> CleanArticle:
        fields.setdefault("ingested_at", T0)
        return CleanArticle(article_id=article_id, text=text, **fields)  # type: ignore[arg-type]

    return make


def read_seed(prefix: str) -> str:
    """The text of ``seeds/<prefix>_*.txt``, as scraped."""
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


def split_dump(text: str) -> list[tuple[str | None, str]]:
    """Split seed 004 into its six pages: (url, text), text kept as it is.

    A page starts at a URL line, or at a repeated "World News" header: the second Reuters copy
    arrived without its URL line.
    """
    parts: list[tuple[str | None, list[str]]] = []
    for line in text.split("\n"):
        if line.startswith("http"):
            parts.append((line, []))
        elif line == "World News" and parts and parts[-1][1]:
            parts.append((None, [line]))
        else:
            parts[-1][1].append(line)
    return [(url, "\n".join(lines).strip()) for url, lines in parts]


@pytest.fixture
def seed_004(make_article: Callable[..., CleanArticle]) -> list[CleanArticle]:
    """The six pages of seed 004: Reuters, Guardian, Vox, then their copies in the same order."""
    pages = split_dump(read_seed("004"))
    assert len(pages) == 6
    return [
        make_article(f"004-{i}", text, url=url, parent_id="004", part=i)
        for i, (url, text) in enumerate(pages, start=1)
    ]


@pytest.fixture
def bloomberg(make_article: Callable[..., CleanArticle]) -> dict[str, CleanArticle]:
    """Seeds 000 and 002: two different Bloomberg stories that share whole sentences."""
    return {p: make_article(p, read_seed(p), source="bloomberg.com") for p in ("000", "002")}
