"""Slow tests: issue 9's done-when checks on the seeds' clean text (the re3d figures: evaluation/entities/re3d.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.clean.core import clean_article
from services.entities.extract import extract_entities_batch
from services.entities.settings import EntitiesSettings
from shared.schemas.articles import RawArticle, UniqueArticle
from tests.factories import split_sentences

NOW = datetime(2019, 3, 28, tzinfo=UTC)


@pytest.fixture(scope="module")
def seed_entities(nlp, seed_texts):
    """Every entity of every seed story, cleaned by the clean core as the pipeline would."""
    limits = EntitiesSettings()
    found = []
    for stem, raw in seed_texts.items():
        for story in clean_article(RawArticle(id=stem, text=raw), ingested_at=NOW):
            article = UniqueArticle(**story.model_dump(), sentences=split_sentences(story.text))
            enriched = extract_entities_batch(
                [article],
                nlp,
                max_chunk_chars=limits.entities_max_chunk_chars,
                max_chars=limits.entities_max_chars,
                max_words=limits.entities_max_words,
            )[0]
            found += enriched.entities
    return found


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("Caracas", "VE"),
        ("Venezuela", "VE"),
        ("Venezuelan", "VE"),
        ("Moscow", "RU"),
        ("Russia", "RU"),
        ("Russian", "RU"),
        ("U.S.", "US"),
        ("Washington", "US"),
    ],
)
def test_seed_places_and_peoples_carry_their_country(seed_entities, text, country):
    mentions = [e for e in seed_entities if e.text == text]
    assert mentions, text
    assert {e.country for e in mentions} == {country}


@pytest.mark.slow
@pytest.mark.parametrize("canonical", ["Il-62", "An-124"])
def test_seed_aircraft_are_aircraft(seed_entities, canonical):
    labels = {e.label for e in seed_entities if e.canonical == canonical}
    assert labels == {"AIRCRAFT"}


@pytest.mark.slow
def test_seed_hundred_soldiers_is_a_personnel_mention_with_count_100(seed_entities):
    personnel = [e for e in seed_entities if e.label == "PERSONNEL" and "soldiers" in e.text]
    assert any(e.count == 100 and e.text.endswith("100 soldiers") for e in personnel)
    # "about 100 Russian soldiers": the nationality inside gives the personnel's country, and
    # stays a NORP entity of its own.
    russian = [e for e in personnel if "Russian" in e.text and e.count == 100]
    assert russian and all(e.country == "RU" for e in russian)
    norp = [e for e in seed_entities if e.label == "NORP" and e.text == "Russian"]
    assert all(any(p.start < n.start < p.end for n in norp) for p in russian)
