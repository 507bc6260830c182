"""Fixtures for the dedup tests: the seed articles, split as the clean stage will (helpers in factories.py)."""

from __future__ import annotations

import pytest

from shared.schemas import CleanArticle

from .factories import make_article, read_seed, split_dump


@pytest.fixture
def seed_004() -> list[CleanArticle]:
    """The six pages of seed 004: Reuters, Guardian, Vox, then their copies in the same order."""
    pages = split_dump(read_seed("004"))
    assert len(pages) == 6
    return [
        make_article(f"004-{i}", text, url=url, parent_id="004", part=i)
        for i, (url, text) in enumerate(pages, start=1)
    ]


@pytest.fixture
def bloomberg() -> dict[str, CleanArticle]:
    """Seeds 000 and 002: two different Bloomberg stories that share whole sentences."""
    return {p: make_article(p, read_seed(p), source="bloomberg.com") for p in ("000", "002")}
