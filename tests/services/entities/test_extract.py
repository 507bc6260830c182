"""Tests for services/entities/extract.py: offsets, sentences, titles, batches, limits."""

from __future__ import annotations

import pytest
import spacy

from services.entities.extract import TITLE_MAX_CHARS, extract_entities_batch
from services.entities.ruler import add_domain_ruler
from shared.schemas.articles import EnrichedArticle, Sentence


def test_offsets_and_sentence_indices_point_into_the_article(blank_nlp, make_article):
    text = (
        "Russia defended the deployment.\n\n"
        "A Russian Il-62 passenger jet and an An-124 military cargo plane arrived on Saturday. "
        "The specialists came to fix an S-300 system."
    )
    enriched = extract_entities_batch([make_article(text)], blank_nlp)[0]
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
    enriched = extract_entities_batch([article], blank_nlp)[0]
    assert isinstance(enriched, EnrichedArticle)
    assert (
        enriched.model_dump(exclude={"entities", "entities_truncated_at", "title_entities"})
        == article.model_dump()
    )
    assert enriched.entities_truncated_at is None  # the whole text was read


def test_title_entities_point_into_the_title_and_leave_the_body_alone(blank_nlp, make_article):
    text = "The frigate landed troops. An Il-62 came."
    title = "Two An-124s and an S-300 reach Caracas"
    bare = extract_entities_batch([make_article(text)], blank_nlp)[0]
    titled = extract_entities_batch([make_article(text, title="  " + title + " ")], blank_nlp)[0]
    assert titled.entities == bare.entities
    # Offsets into the stripped title, as the alerts stage reads it; sentence -1 is the title.
    assert [(e.text, title[e.start : e.end], e.sentence) for e in titled.title_entities] == [
        ("An-124s", "An-124s", -1),
        ("S-300", "S-300", -1),
    ]
    assert bare.title_entities == []
    assert (
        extract_entities_batch([make_article(text, title="Nothing military")], blank_nlp)[
            0
        ].title_entities
        == []
    )


def test_a_ship_class_at_the_end_of_the_text_does_not_merge_with_a_name_in_the_title(
    blank_nlp, make_article
):
    # The title is placed after the text for the article-wide steps; the gap between them is not
    # blank, so "frigate" (text) + "HMS Ocean" (title) stay two entities.
    enriched = extract_entities_batch(
        [make_article("HMS Ocean met the frigate", title="HMS Ocean sails on")], blank_nlp
    )[0]
    assert [e.text for e in enriched.entities] == ["HMS Ocean", "frigate"]
    assert [e.text for e in enriched.title_entities] == ["HMS Ocean"]


def test_a_long_title_is_read_up_to_its_limit(blank_nlp, make_article):
    title = "x " * TITLE_MAX_CHARS + "An Il-62"
    assert (
        extract_entities_batch([make_article("Text.", title=title)], blank_nlp)[0].title_entities
        == []
    )


def test_entity_in_a_gap_between_sentences_takes_the_sentence_before(blank_nlp, make_article):
    article = make_article("First sentence here. An Il-62 landed.")
    # Upstream left the tail out of every sentence (e.g. trimmed boilerplate).
    short = article.model_copy(
        update={"sentences": [Sentence(index=0, start=0, end=20, text="First sentence here.")]}
    )
    (entity,) = extract_entities_batch([short], blank_nlp)[0].entities
    assert entity.sentence == 0


def test_article_without_sentences_gets_sentence_minus_one(blank_nlp, make_article):
    article = make_article("An Il-62 landed.").model_copy(update={"sentences": []})
    (entity,) = extract_entities_batch([article], blank_nlp)[0].entities
    assert entity.sentence == -1


def test_empty_text_gives_no_entities(blank_nlp, make_article):
    assert extract_entities_batch([make_article("")], blank_nlp)[0].entities == []


def test_batch_extraction_matches_one_by_one(blank_nlp, make_article):
    articles = [
        make_article(t, article_id=str(i), title=title)
        for i, (t, title) in enumerate(
            [("An Il-62.", "An-124 lands"), ("", None), ("Two S-300s.", "Tu-160")]
        )
    ]
    assert extract_entities_batch(articles, blank_nlp, batch_size=2) == [
        extract_entities_batch([a], blank_nlp)[0] for a in articles
    ]


BATCH_LIMITS = {"max_chunk_chars": 40, "max_chars": 200, "max_words": 30}


def test_extract_entities_batch_equals_one_article_at_a_time(blank_nlp, make_article):
    texts = ["An Il-62.", "", "Two S-300s. " * 30, "The An-124 landed. Then an Il-76 came."]
    articles = [make_article(t, article_id=str(i)) for i, t in enumerate(texts)]
    batch = extract_entities_batch(articles, blank_nlp, batch_size=3, **BATCH_LIMITS)
    assert batch == [extract_entities_batch([a], blank_nlp, **BATCH_LIMITS)[0] for a in articles]
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
        extract_entities_batch(articles, nlp, batch_size=2, **BATCH_LIMITS)


# --- the real model (slow) -------------------------------------------------------------------


@pytest.mark.slow
def test_batch_on_real_model_equals_single_path_and_keeps_string_store_flat(
    nlp, make_article, seed_texts
):
    articles = [make_article(t, article_id=k) for k, t in seed_texts.items()]
    limits = {"max_chunk_chars": 2_000, "max_chars": 30_000, "max_words": 4_000}
    extract_entities_batch(articles, nlp, batch_size=4, **limits)  # first contact: ner labels
    before = len(nlp.vocab.strings)
    batch = extract_entities_batch(articles, nlp, batch_size=4, **limits)
    assert len(nlp.vocab.strings) == before  # the memory zone freed what these texts interned
    assert batch == [extract_entities_batch([a], nlp, **limits)[0] for a in articles]
    # The pipeline still names its labels after the zone (spaCy E018 if a label was transient).
    assert "U-AIRCRAFT" in nlp.get_pipe("ner").move_names
