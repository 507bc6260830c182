"""Nothing stalls the entities stage: adversarial text scales linearly, long articles go through
spaCy in bounded pieces with offsets into the full text, and its patterns are RE2 or explained."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import re2  # type: ignore[import-untyped]

import services.entities
from services.entities import names
from services.entities.chunks import plan_chunks
from services.entities.extract import extract_entities_batch
from services.entities.settings import EntitiesSettings
from shared.schemas.articles import Sentence, UniqueArticle
from tests.factories import assert_linear, best_of_3, repeat_to

ALLOWED_RE = {
    "_DESIGNATOR": "reads the gazetteer file, never input text",
    "_RUN": "a run of \\S (one class); thousands of matches per text",
}
UNITS = ["a", "a ", "<", "(", "'", '"', ".", "-", "@", "1", "a@a.", "http://", "Aa ", "U.S. "]


def _article(text: str, sentences: list[tuple[int, int]] | None = None) -> UniqueArticle:
    spans = sentences if sentences is not None else [(0, len(text))]
    return UniqueArticle(
        article_id="a1",
        text=text,
        ingested_at=datetime(2019, 3, 28, tzinfo=UTC),
        sentences=[
            Sentence(index=i, start=s, end=e, text=text[s:e]) for i, (s, e) in enumerate(spans)
        ],
    )


def test_patterns_are_re2_or_allowlisted():
    # Every module of the service but the faust app (which builds its worker on import).
    package = Path(services.entities.__file__).parent
    modules = [
        importlib.import_module(f"services.entities.{path.stem}")
        for path in sorted(package.glob("*.py"))
        if path.stem not in {"__init__", "app"}
    ]
    assert len(modules) > 5
    for module in modules:
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern):
                assert name in ALLOWED_RE, (
                    f"{module.__name__}.{name} is a backtracking re pattern without a reason"
                )
    assert isinstance(names._POSSESSIVE, type(re2.compile("")))
    assert isinstance(names._LEADING_THE, type(re2.compile("")))


@pytest.mark.parametrize("unit", UNITS)
def test_extract_entities_scales_linearly(blank_nlp, unit):
    def make(n: int) -> Callable[[], object]:
        article = _article(repeat_to(unit, n))
        return lambda: extract_entities_batch(
            [article], blank_nlp, max_chunk_chars=100_000, max_chars=300_000
        )[0]

    assert_linear(make, 10_000, repr(unit))


def test_a_long_run_of_punctuation_is_read_in_well_under_a_second(blank_nlp):
    # spaCy's tokenizer alone took 130 s on "<" * 20,000.
    article = _article("<" * 20_000 + " Antonov AN-124 landed.")
    enriched = extract_entities_batch([article], blank_nlp)[0]
    assert best_of_3(lambda: extract_entities_batch([article], blank_nlp)[0]) < 1.0
    assert [(e.text, e.label) for e in enriched.entities] == [("Antonov AN-124", "AIRCRAFT")]


def test_text_of_1_2_million_characters_is_read_in_pieces_with_offsets_in_the_full_text(
    blank_nlp,
):
    sentence = "Officials said a delegation arrived near the base. "
    filler = sentence * (1_200_000 // len(sentence))
    marker = "An Antonov AN-124 landed in Caracas on Saturday. "
    text = filler[:150_000] + marker + filler[150_000:700_000] + marker + filler[700_000:]
    assert len(text) > 1_200_000  # over spaCy's max_length of 1,000,000
    sentences = [(m.start(), m.end() - 1) for m in re.finditer(r"[^.]+\. ", text)]
    article = _article(text, sentences)

    enriched = extract_entities_batch([article], blank_nlp, max_chunk_chars=100_000)[0]

    found = [e for e in enriched.entities if e.label == "AIRCRAFT"]
    assert [e.start for e in found] == [i + 3 for i in _find_all(text, marker)]
    for e in found:
        assert text[e.start : e.end] == e.text == "Antonov AN-124"
        sent = enriched.sentences[e.sentence]
        assert sent.start <= e.start < sent.end and "AN-124" in sent.text


def test_no_entity_is_looked_for_past_the_cap(blank_nlp):
    marker = "An Antonov AN-124 landed. "
    text = marker + "Nothing happened today. " * 20_000 + marker
    sentences = [(m.start(), m.end() - 1) for m in re.finditer(r"[^.]+\. ", text)]
    article = _article(text, sentences)

    enriched = extract_entities_batch(
        [article], blank_nlp, max_chunk_chars=1_000, max_chars=300_000
    )[0]
    plan = plan_chunks(text, article.sentences, max_chunk_chars=1_000, max_chars=300_000)

    assert [e.start for e in enriched.entities] == [3]
    assert plan.truncated_at is not None and plan.truncated_at <= 300_000
    assert text[plan.truncated_at - 1] == "."  # cut at a sentence end
    assert all(e - s <= 1_000 for s, e in plan.spans)
    assert plan.spans[0][0] == 0 and plan.spans[-1][1] == plan.truncated_at
    assert all(a[1] == b[0] for a, b in zip(plan.spans, plan.spans[1:], strict=False))


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("aaaa bbbb cccc", 6, [(0, 4), (4, 9), (9, 14)]),  # at whitespace: no sentences given
        ("a" * 25, 10, [(0, 10), (10, 20), (20, 25)]),  # one word: at the limit itself
        ("short", 100, [(0, 5)]),
    ],
)
def test_pieces_are_cut_at_whitespace_or_at_the_limit(text, limit, expected):
    plan = plan_chunks(text, [], max_chunk_chars=limit)
    assert list(plan.spans) == expected and plan.truncated_at is None


def test_without_limits_the_text_is_one_piece():
    assert plan_chunks("x" * 2_000_000, []).spans == ((0, 2_000_000),)


def test_the_default_limits_keep_every_piece_within_what_spacy_accepts(blank_nlp):
    settings = EntitiesSettings()
    assert settings.entities_max_chunk_chars <= settings.entities_max_chars
    assert settings.entities_max_chunk_chars < blank_nlp.max_length


def test_chunked_extraction_finds_what_one_piece_finds(blank_nlp, make_article):
    text = " ".join(
        f"Paragraph {i}: an Antonov AN-124 and S-300s were seen near the base, and HMS Ocean."
        for i in range(200)
    )
    article = make_article(text)
    whole = extract_entities_batch([article], blank_nlp)[0]
    pieces = extract_entities_batch([article], blank_nlp, max_chunk_chars=500)[0]
    assert pieces.entities == whole.entities
    assert len(whole.entities) == 600


def _find_all(text: str, sub: str) -> list[int]:
    out, pos = [], text.find(sub)
    while pos >= 0:
        out.append(pos)
        pos = text.find(sub, pos + 1)
    return out


def test_reading_stops_after_max_words_at_a_word_start():
    text = "a " * 10_000
    plan = plan_chunks(text, [], max_words=6_000)
    assert 11_990 <= plan.truncated_at <= 12_000 and len(text[: plan.truncated_at].split()) == 6_000
    assert plan_chunks("few words here", [], max_words=6_000).truncated_at is None
