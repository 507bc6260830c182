"""Slow tests: issue 9's done-when checks on the seeds' clean text, and the re3d quality figures."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.clean.core import clean_article
from services.entities.extract import extract_entities_batch
from services.entities.settings import EntitiesSettings
from shared.schemas.articles import RawArticle, UniqueArticle
from tests.factories import split_sentences

NOW = datetime(2019, 3, 28, tzinfo=UTC)
DATA = Path(__file__).resolve().parents[4] / "shared" / "data"


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


@pytest.mark.slow
def test_re3d_held_out_figures(nlp):
    """The figures tests/bench/bench_entities.py prints, on the half not used for tuning.

    Issue 9's goals are recall >= 0.75 and precision >= 0.85 for Weapon+MilitaryPlatform: NOT
    reached on the held-out half; this asserts what is reached, so a regression fails, and that
    Person/Organisation/Location are no worse than plain spaCy. The held-out half has been looked
    at twice, figures only, never its errors: after the first vocabulary (R 55/82 = 0.671,
    P 51/65 = 0.785) and after the second round of tuning on the tuning half (R 55/82 = 0.671,
    P 51/67 = 0.761), which is what the thresholds below sit just under.
    """
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    import bench_entities as bench

    result = bench.quality_re3d(nlp, DATA)["held-out"]
    domain = result["ours"]["domain"]
    assert domain.recall >= 0.66 and domain.precision >= 0.75
    # The vocabulary generalises beyond the tuning half: a lexicon of that half's own gold strings,
    # memorised, does worse on the held-out half (P 0.658 / R 0.488 when this was written).
    memorised = result["memorised"]["domain"]
    assert domain.precision > memorised.precision and domain.recall > memorised.recall
    # Why the goal is out of reach of vocabulary: a lexicon of the held-out half's OWN gold strings,
    # scored on that half (a cheat that knows its answers), reaches P >= 0.85 or R >= 0.75 but at
    # no share both (re3d annotates the same string in some occurrences, not in others). The
    # goal needs a tagger that reads context, trained on labelled defence text (see the README).
    oracle = result["self-oracle"]
    assert not any(sc.precision >= 0.85 and sc.recall >= 0.75 for _, sc in oracle), oracle
    assert any(sc.precision >= 0.85 for _, sc in oracle) and any(
        sc.recall >= 0.75 for _, sc in oracle
    )
    for kind in bench.RE3D_NER_TYPES:
        ours, plain = result["ours"][kind], result["plain"][kind]
        assert ours.precision >= plain.precision and ours.recall >= plain.recall, kind
