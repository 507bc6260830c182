"""Tests for services/entities/gazetteer.py: its aliases, patterns and canonical names."""

from __future__ import annotations

import pytest
import spacy

from services.entities.extract import extract_entities_batch
from services.entities.gazetteer import DOMAIN_LABELS, load_gazetteer
from services.entities.names import canonicalise
from services.entities.ruler import add_domain_ruler
from shared.schemas.articles import EnrichedArticle


def domain(enriched: EnrichedArticle) -> list[tuple[str, str, str | None]]:
    return [(e.text, e.label, e.canonical) for e in enriched.entities if e.label in DOMAIN_LABELS]


@pytest.mark.parametrize(
    ("text", "label", "canonical"),
    [
        ("Il-62", "AIRCRAFT", "Il-62"),
        ("IL-62", "AIRCRAFT", "Il-62"),
        ("Ilyushin IL-62", "AIRCRAFT", "Il-62"),
        ("IL62", "AIRCRAFT", "Il-62"),
        ("An-124", "AIRCRAFT", "An-124"),
        ("AN-124", "AIRCRAFT", "An-124"),
        ("Antonov AN-124", "AIRCRAFT", "An-124"),
        ("An-124s", "AIRCRAFT", "An-124"),
        ("TU-160", "AIRCRAFT", "Tu-160"),
        ("Blackjack bombers", "AIRCRAFT", "Tu-160"),
        ("S-300", "WEAPON", "S-300"),
        ("S-300s", "WEAPON", "S-300"),
        ("S300", "WEAPON", "S-300"),
        ("Patriot missile", "WEAPON", "Patriot"),
        ("82nd Airborne Division", "MILITARY_UNIT", "82nd Airborne Division"),
        ("Wagner Group", "MILITARY_UNIT", "Wagner Group"),
        ("HMS Ocean", "VESSEL", "HMS Ocean"),
    ],
)
def test_gazetteer_variant_gets_label_and_canonical_name(
    blank_nlp, make_article, text, label, canonical
):
    article = make_article(f"Officials said the {text} was seen near the base.")
    enriched = extract_entities_batch([article], blank_nlp)[0]
    assert domain(enriched) == [(text, label, canonical)]


@pytest.mark.parametrize(
    "text",
    [
        "He played blackjack at the casino.",  # cased alias: the card game is not a Tu-160
        "The New England Patriots won again.",  # "Patriot" needs its noun
        "Take vitamin B2 and E3 tickets.",  # short designators are not joined without a hyphen
        "The 2nd floor of the office.",  # an ordinal alone is not a unit
    ],
)
def test_ordinary_words_are_not_domain_entities(blank_nlp, make_article, text):
    assert domain(extract_entities_batch([make_article(text)], blank_nlp)[0]) == []


def test_every_gazetteer_pattern_is_valid_for_the_entity_ruler():
    gazetteer = load_gazetteer()
    assert len(gazetteer.patterns) > 300
    # validate=True in add_domain_ruler raises on a malformed pattern; this keeps the data file honest.
    add_domain_ruler(spacy.blank("en"))


@pytest.mark.parametrize(
    ("text", "label", "canonical"),
    [
        ("U.S.", "GPE", "United States"),
        ("the US", "GPE", "United States"),
        ("Britain", "GPE", "United Kingdom"),
        ("Russia's", "GPE", "Russia"),
        ("Caracas", "GPE", "Caracas"),
        ("Nato", "ORG", "NATO"),
    ],
)
def test_canonical_names_for_model_labels(text, label, canonical):
    table = load_gazetteer().canonical
    assert canonicalise(text, label, table) == canonical


# --- the real model (slow) -------------------------------------------------------------------


@pytest.mark.slow
def test_seed_aircraft_and_weapons_get_canonical_names(nlp, make_article, seed_texts):
    canon: dict[str, set[str]] = {}
    for stem, text in seed_texts.items():
        enriched = extract_entities_batch([make_article(text, article_id=stem)], nlp)[0]
        for e in enriched.entities:
            assert text[e.start : e.end] == e.text
            sentence = enriched.sentences[e.sentence]
            assert sentence.start <= e.start < sentence.end
            if e.label in DOMAIN_LABELS:
                canon.setdefault(e.canonical or "", set()).add(e.text)
    assert canon["Il-62"] == {"Il-62", "Ilyushin IL-62"}
    assert canon["An-124"] == {"An-124", "Antonov AN-124"}
    assert canon["S-300"] == {"S-300"}
    assert canon["Tu-160"] == {"TU-160", "Blackjack bombers"}
