"""Fixtures for the entities core: a blank pipeline with the domain ruler, the real model, articles."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import spacy
from spacy.language import Language

from services.entities.core import add_domain_ruler, load_nlp
from shared.schemas.articles import Sentence, UniqueArticle

SEEDS = Path(__file__).resolve().parents[3] / "seeds"
# A stand-in for dedup's segmentation: paragraphs, then sentence ends before a capital or quote.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’]?\s+(?=[\"“‘(]?[A-Z0-9])|\n+")


def split_sentences(text: str, seen: Iterable[int] = ()) -> list[Sentence]:
    """Sentences of ``text`` with exact offsets; indices in ``seen`` are marked seen."""
    seen = set(seen)
    sentences: list[Sentence] = []
    pos = 0
    for m in [*_SENTENCE_END.finditer(text), None]:
        end = m.start() if m else len(text)
        chunk = text[pos:end]
        if chunk.strip():
            start = pos + len(chunk) - len(chunk.lstrip())
            stop = pos + len(chunk.rstrip())
            i = len(sentences)
            sentences.append(
                Sentence(index=i, start=start, end=stop, text=text[start:stop], seen=i in seen)
            )
        pos = m.end() if m else pos
    return sentences


ArticleFactory = Callable[..., UniqueArticle]


@pytest.fixture
def make_article() -> ArticleFactory:
    """Build a UniqueArticle from text, segmented like dedup would, some sentences marked seen."""

    def make(
        text: str, *, article_id: str = "a1", seen: Iterable[int] = (), **meta
    ) -> UniqueArticle:
        return UniqueArticle(
            article_id=article_id,
            text=text,
            ingested_at=datetime(2019, 3, 28, tzinfo=UTC),
            sentences=split_sentences(text, seen),
            **meta,
        )

    return make


@pytest.fixture(scope="session")
def blank_nlp() -> Language:
    """A blank English pipeline with only the gazetteer ruler: fast, no statistical NER."""
    nlp = spacy.blank("en")
    add_domain_ruler(nlp)
    return nlp


@pytest.fixture(scope="session")
def nlp() -> Language:
    """The real en_core_web_sm pipeline as the service loads it (for tests marked slow)."""
    return load_nlp()


@pytest.fixture(scope="session")
def seed_texts() -> dict[str, str]:
    """The scraped seed articles, by file stem."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}
