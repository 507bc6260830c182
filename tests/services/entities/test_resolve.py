"""Tests for services/entities/resolve.py, through extraction: names grouped, countries given."""

from __future__ import annotations

import pytest

from services.entities.extract import extract_entities_batch


@pytest.mark.slow
def test_seed_people_and_places_are_found_and_grouped(nlp, make_article, seed_texts):
    text = seed_texts["000_98ab7105c80f8e79"]
    enriched = extract_entities_batch([make_article(text)], nlp)[0]
    by_canonical = {(e.label, e.canonical) for e in enriched.entities}
    assert ("GPE", "Venezuela") in by_canonical
    assert ("GPE", "United States") in by_canonical  # written "U.S."
    assert ("PERSON", "Maria Zakharova") in by_canonical
    # "Trump" alone is grouped under the full name the article gives.
    trump = [e for e in enriched.entities if e.text == "Trump"]
    assert trump and all(e.canonical == "Donald Trump" and e.label == "PERSON" for e in trump)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        # A headline's people and country resolve like the body's (AG News World items).
        (
            "Israeli Forces Thrust Into Northern Gaza",
            "Troops entered the camp on Tuesday.",
            {"Israeli": "IL"},
        ),
        (
            "Poland to Reduce Number of Troops in Iraq",
            "The defence minister spoke on Friday.",
            {"Poland": "PL", "Iraq": "IQ"},
        ),
        # "Georgia" alone is ambiguous (the country, the US state); the body's Tbilisi decides.
        ("Georgia moves troops", "Soldiers left Tbilisi on Monday.", {"Georgia": "GE"}),
    ],
)
def test_title_places_get_their_country_resolved_with_the_body(
    nlp, make_article, title, text, expected
):
    enriched = extract_entities_batch([make_article(text, title=title)], nlp)[0]
    found = {e.text: e.country for e in enriched.title_entities if e.text in expected}
    assert found == expected


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "name", "country"),
    [
        ("The Afghan Army was sent to Herat.", "Afghan Army", "AF"),
        ("Iraqi National Guardsmen advanced.", "Iraqi National Guardsmen", "IQ"),
        ("The Russian Aerospace Forces struck.", "Russian Aerospace Forces", "RU"),
        # An armed group whose name holds a people is not that country's forces.
        ("The Free Syrian Army attacked.", "Free Syrian Army", None),
        ("The Syrian Democratic Forces advanced.", "Syrian Democratic Forces", None),
        # A named unit of one country's forces: the gazetteer's country (issue 20)
        ("THE Black Watch today moved towards Baghdad.", "Black Watch", "GB"),
        ("Sailors of the Royal Navy landed.", "Royal Navy", "GB"),
        # where the NER names no country: "US" before "Marines" is no GPE to it
        ("Over 1,000 US Marines are deployed near Kandahar.", "US Marines", "US"),
    ],
)
def test_a_countrys_forces_named_after_its_people_take_its_country(
    nlp, make_article, text, name, country
):
    (entity,) = [
        e for e in extract_entities_batch([make_article(text)], nlp)[0].entities if name in e.text
    ]
    assert entity.label in {"ORG", "MILITARY_UNIT"}
    assert entity.country == country


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    ["AU troops arrived.", "The African Union sent troops.", "A larger AfricanUnion (AU) mission."],
)
def test_the_african_union_has_one_canonical_name_however_written(nlp, make_article, text):
    orgs = [
        e for e in extract_entities_batch([make_article(text)], nlp)[0].entities if e.label == "ORG"
    ]
    assert orgs and {e.canonical for e in orgs} == {"African Union"}
