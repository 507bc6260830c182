"""Tests for services/entities/core.py: the gazetteer ruler, offsets, sentence mapping, canonical names."""

from __future__ import annotations

import pytest
import spacy

from services.entities import core
from services.entities.core import (
    ModelNotFound,
    add_domain_ruler,
    extract_entities,
    extract_entities_many,
    load_gazetteer,
    load_nlp,
)
from shared.schemas.articles import EnrichedArticle, Sentence


def domain(enriched: EnrichedArticle) -> list[tuple[str, str, str | None]]:
    return [
        (e.text, e.label, e.canonical) for e in enriched.entities if e.label in core.DOMAIN_LABELS
    ]


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
    enriched = extract_entities(article, blank_nlp)
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
    assert domain(extract_entities(make_article(text), blank_nlp)) == []


def test_offsets_and_sentence_indices_point_into_the_article(blank_nlp, make_article):
    text = (
        "Russia defended the deployment.\n\n"
        "A Russian Il-62 passenger jet and an An-124 military cargo plane arrived on Saturday. "
        "The specialists came to fix an S-300 system."
    )
    enriched = extract_entities(make_article(text), blank_nlp)
    found = [(e.text, e.sentence) for e in enriched.entities]
    # "passenger jet" is a not_military phrase of the vocabulary: the Il-62 is the entity.
    assert found == [("Il-62", 1), ("An-124", 1), ("cargo plane", 1), ("S-300", 2)]
    for entity in enriched.entities:
        assert text[entity.start : entity.end] == entity.text
        sentence = enriched.sentences[entity.sentence]
        assert sentence.start <= entity.start < sentence.end


def test_enriched_article_keeps_every_input_field(blank_nlp, make_article):
    article = make_article(
        "An An-124 landed.", article_id="x9", title="T", url="https://e.x/1", seen=[0]
    )
    enriched = extract_entities(article, blank_nlp)
    assert isinstance(enriched, EnrichedArticle)
    assert (
        enriched.model_dump(exclude={"entities", "entities_truncated_at", "title_entities"})
        == article.model_dump()
    )
    assert enriched.entities_truncated_at is None  # the whole text was read


def test_title_entities_point_into_the_title_and_leave_the_body_alone(blank_nlp, make_article):
    text = "The frigate landed troops. An Il-62 came."
    title = "Two An-124s and an S-300 reach Caracas"
    bare = extract_entities(make_article(text), blank_nlp)
    titled = extract_entities(make_article(text, title="  " + title + " "), blank_nlp)
    assert titled.entities == bare.entities
    # Offsets into the stripped title, as the alerts stage reads it; sentence -1 is the title.
    assert [(e.text, title[e.start : e.end], e.sentence) for e in titled.title_entities] == [
        ("An-124s", "An-124s", -1), ("S-300", "S-300", -1)
    ]
    assert bare.title_entities == []
    assert extract_entities(make_article(text, title="Nothing military"), blank_nlp).title_entities == []


def test_a_ship_class_at_the_end_of_the_text_does_not_merge_with_a_name_in_the_title(
    blank_nlp, make_article
):
    # The title is placed after the text for the article-wide steps; the gap between them is not
    # blank, so "frigate" (text) + "HMS Ocean" (title) stay two entities.
    enriched = extract_entities(make_article("HMS Ocean met the frigate", title="HMS Ocean sails on"), blank_nlp)
    assert [e.text for e in enriched.entities] == ["HMS Ocean", "frigate"]
    assert [e.text for e in enriched.title_entities] == ["HMS Ocean"]


def test_a_long_title_is_read_up_to_its_limit(blank_nlp, make_article):
    title = "x " * core.TITLE_MAX_CHARS + "An Il-62"
    assert extract_entities(make_article("Text.", title=title), blank_nlp).title_entities == []


def test_entity_in_a_gap_between_sentences_takes_the_sentence_before(blank_nlp, make_article):
    article = make_article("First sentence here. An Il-62 landed.")
    # Upstream left the tail out of every sentence (e.g. trimmed boilerplate).
    short = article.model_copy(
        update={"sentences": [Sentence(index=0, start=0, end=20, text="First sentence here.")]}
    )
    (entity,) = extract_entities(short, blank_nlp).entities
    assert entity.sentence == 0


def test_article_without_sentences_gets_sentence_minus_one(blank_nlp, make_article):
    article = make_article("An Il-62 landed.").model_copy(update={"sentences": []})
    (entity,) = extract_entities(article, blank_nlp).entities
    assert entity.sentence == -1


def test_empty_text_gives_no_entities(blank_nlp, make_article):
    assert extract_entities(make_article(""), blank_nlp).entities == []


def test_batch_extraction_matches_one_by_one(blank_nlp, make_article):
    articles = [
        make_article(t, article_id=str(i), title=title)
        for i, (t, title) in enumerate([("An Il-62.", "An-124 lands"), ("", None), ("Two S-300s.", "Tu-160")])
    ]
    assert list(extract_entities_many(articles, blank_nlp, batch_size=2)) == [
        extract_entities(a, blank_nlp) for a in articles
    ]


BATCH_LIMITS = {"max_chunk_chars": 40, "max_chars": 200, "max_words": 30}


def test_extract_entities_batch_equals_one_article_at_a_time(blank_nlp, make_article):
    texts = ["An Il-62.", "", "Two S-300s. " * 30, "The An-124 landed. Then an Il-76 came."]
    articles = [make_article(t, article_id=str(i)) for i, t in enumerate(texts)]
    batch = core.extract_entities_batch(articles, blank_nlp, batch_size=3, **BATCH_LIMITS)
    assert batch == [extract_entities(a, blank_nlp, **BATCH_LIMITS) for a in articles]
    assert batch[2].entities_truncated_at is not None  # the limits apply as in the single path


def test_extract_entities_batch_raises_when_an_article_fails(blank_nlp, make_article):
    articles = [make_article("An Il-62."), make_article("An An-124.")]
    # A pipeline component that raises on the second article's text.
    nlp = spacy.blank("en")
    add_domain_ruler(nlp)

    @spacy.Language.component("fail_on_an124_test")
    def fail(doc):
        if "An-124" in doc.text:
            raise RuntimeError("boom")
        return doc

    nlp.add_pipe("fail_on_an124_test")
    with pytest.raises(RuntimeError, match="boom"):
        core.extract_entities_batch(articles, nlp, batch_size=2, **BATCH_LIMITS)


def test_domain_ruler_is_added_once_and_before_ner():
    nlp = spacy.blank("en")
    nlp.add_pipe("ner")
    first = add_domain_ruler(nlp)
    assert add_domain_ruler(nlp) is first
    assert nlp.pipe_names == [core.RULER_NAME, "ner", core.PERSONNEL_NAME]


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
    assert core.canonicalise(text, label, table) == canonical


def test_unknown_model_name_raises_a_clear_error():
    with pytest.raises(ModelNotFound, match="not installed"):
        load_nlp("xx_no_such_model")


# --- the real model (slow) -------------------------------------------------------------------


@pytest.mark.slow
def test_real_pipeline_runs_ruler_before_ner_and_skips_unused_pipes(nlp):
    assert nlp.pipe_names == [core.RULER_NAME, "ner", core.PERSONNEL_NAME]


@pytest.mark.slow
def test_seed_aircraft_and_weapons_get_canonical_names(nlp, make_article, seed_texts):
    canon: dict[str, set[str]] = {}
    for stem, text in seed_texts.items():
        enriched = extract_entities(make_article(text, article_id=stem), nlp)
        for e in enriched.entities:
            assert text[e.start : e.end] == e.text
            sentence = enriched.sentences[e.sentence]
            assert sentence.start <= e.start < sentence.end
            if e.label in core.DOMAIN_LABELS:
                canon.setdefault(e.canonical or "", set()).add(e.text)
    assert canon["Il-62"] == {"Il-62", "Ilyushin IL-62"}
    assert canon["An-124"] == {"An-124", "Antonov AN-124"}
    assert canon["S-300"] == {"S-300"}
    assert canon["Tu-160"] == {"TU-160", "Blackjack bombers"}


@pytest.mark.slow
def test_seed_people_and_places_are_found_and_grouped(nlp, make_article, seed_texts):
    text = seed_texts["000_98ab7105c80f8e79"]
    enriched = extract_entities(make_article(text), nlp)
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
        ("Israeli Forces Thrust Into Northern Gaza", "Troops entered the camp on Tuesday.", {"Israeli": "IL"}),
        ("Poland to Reduce Number of Troops in Iraq", "The defence minister spoke on Friday.",
         {"Poland": "PL", "Iraq": "IQ"}),
        # "Georgia" alone is ambiguous (the country, the US state); the body's Tbilisi decides.
        ("Georgia moves troops", "Soldiers left Tbilisi on Monday.", {"Georgia": "GE"}),
    ],
)
def test_title_places_get_their_country_resolved_with_the_body(nlp, make_article, title, text, expected):
    enriched = extract_entities(make_article(text, title=title), nlp)
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
    ],
)
def test_a_countrys_forces_named_after_its_people_take_its_country(nlp, make_article, text, name, country):
    (entity,) = [e for e in extract_entities(make_article(text), nlp).entities if name in e.text]
    assert entity.label in {"ORG", "MILITARY_UNIT"}
    assert entity.country == country


@pytest.mark.slow
def test_batch_on_real_model_equals_single_path_and_keeps_string_store_flat(
    nlp, make_article, seed_texts
):
    articles = [make_article(t, article_id=k) for k, t in seed_texts.items()]
    limits = {"max_chunk_chars": 2_000, "max_chars": 30_000, "max_words": 4_000}
    core.extract_entities_batch(articles, nlp, batch_size=4, **limits)  # first contact: ner labels
    before = len(nlp.vocab.strings)
    batch = core.extract_entities_batch(articles, nlp, batch_size=4, **limits)
    assert len(nlp.vocab.strings) == before  # the memory zone freed what these texts interned
    assert batch == [extract_entities(a, nlp, **limits) for a in articles]
    # The pipeline still names its labels after the zone (spaCy E018 if a label was transient).
    assert "U-AIRCRAFT" in nlp.get_pipe("ner").move_names
