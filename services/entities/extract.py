"""Extraction: consumes UniqueArticles, produces EnrichedArticles; dead-letters nothing.

Named entities come from spaCy's NER, domain entities (aircraft, weapons, vessels, military
units) from a gazetteer EntityRuler placed before it (:mod:`services.entities.ruler`).

The spaCy pipeline is passed in (``nlp``), so unit tests can use ``spacy.blank("en")`` with only
the domain ruler (``add_domain_ruler``), while the service loads the real model once with
``services.entities.pipeline.load_nlp``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence

from spacy.language import Language
from spacy.tokens import Doc

from services.entities.chunks import plan_chunks
from services.entities.personnel import SPANS_KEY, count_of
from services.entities.resolve import Mention, resolve_mentions
from services.entities.ruler import gazetteer_of
from shared.schemas.articles import EnrichedArticle, Entity, Sentence, UniqueArticle
from shared.text import headline_case, mask_long_runs

# The title goes through the NER after the body's pieces; for the article-wide steps (places
# resolved together, surnames, vessels) it is placed after the text, past this gap. Not blank
# (a blank gap would let a ship class noun at the end of the text merge with a name in the title).
TITLE_GAP = "\n\n.\n\n"
# A title longer than this is read up to here (clean's titles are a line; a bad input's may not be).
TITLE_MAX_CHARS = 1_000


def extract_entities_batch(
    articles: Sequence[UniqueArticle],
    nlp: Language,
    *,
    max_chunk_chars: int | None = None,
    max_chars: int | None = None,
    max_words: int | None = None,
    batch_size: int = 1,
) -> list[EnrichedArticle]:
    """Run ``nlp`` over each article's text and title; return them enriched, in order.

    Offsets are characters into ``article.text`` (``text[start:end] == entity.text``); each
    entity carries the index of the upstream sentence that contains its first character, or the
    nearest sentence before it when it falls in a gap, or -1 if the article has no sentences.
    The title's entities (``title_entities``) have offsets into the stripped title and sentence
    -1; they are resolved together with the body's.

    The text goes through ``nlp.pipe`` in pieces (:func:`~services.entities.chunks.plan_chunks`:
    at most ``max_chunk_chars`` characters each, cut at sentence ends), so spaCy's memory follows
    the piece, not the article; nothing past ``max_chars`` characters or ``max_words`` words is
    read (``EnrichedArticle.entities_truncated_at`` says where it stopped). None means no limit;
    the entities stage passes its settings. The pieces of all articles go through one
    ``nlp.pipe``, ``batch_size`` pieces per batch (spaCy holds a batch in memory at once; the
    default, 1, reads one piece at a time), inside ``nlp.memory_zone()``: strings spaCy interns
    for these texts are freed on exit, so a long-running worker's string store does not grow.
    Raises whatever any article raises (the caller may then retry one by one).
    """
    with nlp.memory_zone():
        # Built completely inside the zone: the results hold plain str/int values only.
        return list(
            _extract(
                articles,
                nlp,
                batch_size=batch_size,
                max_chunk_chars=max_chunk_chars,
                max_chars=max_chars,
                max_words=max_words,
            )
        )


def _extract(
    articles: Sequence[UniqueArticle],
    nlp: Language,
    *,
    batch_size: int,
    max_chunk_chars: int | None,
    max_chars: int | None,
    max_words: int | None,
) -> Iterator[EnrichedArticle]:
    gazetteer = gazetteer_of(nlp)
    plans = [
        plan_chunks(
            a.text,
            a.sentences,
            max_chunk_chars=max_chunk_chars,
            max_chars=max_chars,
            max_words=max_words,
        )
        for a in articles
    ]
    titles = [(a.title or "").strip()[:TITLE_MAX_CHARS] for a in articles]

    def pieces() -> Iterator[str]:
        for article, plan, title in zip(articles, plans, titles, strict=True):
            for s, e in plan.spans:
                yield mask_long_runs(article.text[s:e])
            if title:
                # Title Case makes the small model see names everywhere ("Reduce Force" an ORG):
                # the NER reads it in sentence case (same length), the entities keep its letters.
                yield mask_long_runs(headline_case(title, article.text))

    docs = nlp.pipe(pieces(), batch_size=batch_size)
    for article, plan, title in zip(articles, plans, titles, strict=True):
        title_start = len(article.text) + len(TITLE_GAP)
        # The title after the text (see TITLE_GAP), so that its names resolve with the body's.
        text = article.text + TITLE_GAP + title if title else article.text
        found: list[Mention] = []
        for start, _ in plan.spans:
            found += _mentions_in(next(docs), start, text)
        if title:
            found += _mentions_in(next(docs), title_start, text)
        found.sort(key=lambda m: (m.start, m.end))
        entities, title_entities = _split_title(
            resolve_mentions(found, text, gazetteer), article.sentences, title_start
        )
        payload = {
            **article.model_dump(),
            "entities": [e.model_dump() for e in entities],
            "title_entities": [e.model_dump() for e in title_entities],
        }
        if "entities_truncated_at" in EnrichedArticle.model_fields:
            payload["entities_truncated_at"] = plan.truncated_at
        yield EnrichedArticle.model_validate(payload)


def _mentions_in(doc: Doc, start: int, text: str) -> list[Mention]:
    # A piece's entities and personnel spans, with offsets and text of the article (``start``:
    # where the piece starts in ``text``). Plain values, not Spans: a Span keeps its Doc alive.
    return [
        *(
            Mention(
                e.label_,
                e.ent_id_,
                start + e.start_char,
                start + e.end_char,
                text[start + e.start_char : start + e.end_char],
            )
            for e in doc.ents
        ),
        *(
            Mention(
                s.label_,
                s.id_,
                start + s.start_char,
                start + s.end_char,
                text[start + s.start_char : start + s.end_char],
                count=count_of(s),
            )
            for s in doc.spans.get(SPANS_KEY, ())
        ),
    ]


def _split_title(
    mentions: list[Mention], sentences: list[Sentence], title_start: int
) -> tuple[list[Entity], list[Entity]]:
    # Body entities in their sentences; the title's with offsets into the title and sentence -1.
    starts = [s.start for s in sentences]
    body: list[Entity] = []
    title: list[Entity] = []
    for m in mentions:
        entity = m.to_entity(_sentence_index(m.start, starts, sentences))
        if m.start < title_start:
            body.append(entity)
        else:
            title.append(
                entity.model_copy(
                    update={
                        "start": entity.start - title_start,
                        "end": entity.end - title_start,
                        "sentence": -1,
                    }
                )
            )
    return body, title


def _sentence_index(offset: int, starts: list[int], sentences: list[Sentence]) -> int:
    # Sentences come in text order; the last one starting at or before the offset holds it
    # (or, if the offset is in a gap between sentences, is the nearest before it).
    if not sentences:
        return -1
    pos = bisect.bisect_right(starts, offset) - 1
    return sentences[max(pos, 0)].index
