"""Fixtures for the alerts core: enriched articles built from text, the rules, the parsing pipeline (the real model: slow tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from spacy.language import Language

from services.alerts import core
from services.alerts.handler import load_nlp
from shared.schemas.articles import Alert, EnrichedArticle, Entity
from tests.factories import split_sentences  # dedup's real segmentation

SEEDS = Path(__file__).resolve().parents[3] / "seeds"
FIRED_AT = datetime(2019, 3, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def make_enriched() -> Callable[..., EnrichedArticle]:
    """Build an EnrichedArticle from text (and optional entities), some sentences marked seen."""

    def make(
        text: str,
        *,
        article_id: str = "a1",
        seen: Iterable[int] = (),
        entities: list[Entity] = (),  # type: ignore[assignment]
        **meta,
    ) -> EnrichedArticle:
        return EnrichedArticle(
            article_id=article_id,
            text=text,
            ingested_at=FIRED_AT,
            sentences=split_sentences(text, seen),
            entities=list(entities),
            **meta,
        )

    return make


def entity(text: str, sentence_text: str, label: str, *, offset: int = 0, sentence: int = 0,
           **fields) -> Entity:
    """An entity of the entities stage, built by hand: ``text`` found in ``sentence_text`` (which starts at ``offset``)."""
    start = sentence_text.index(text) + offset
    return Entity(text=text, label=label, start=start, end=start + len(text), sentence=sentence, **fields)


@pytest.fixture(scope="session")
def alerts_nlp() -> Language:
    """The alerts stage's pipeline (en_core_web_sm with parser and lemmatizer), once a session."""
    return load_nlp("en_core_web_sm")


@pytest.fixture(scope="session")
def ruleset(alerts_nlp) -> core.RuleSet:
    """The shipped rules, compiled on the real vocabulary."""
    return core.load_rules(vocab=alerts_nlp.vocab)


@pytest.fixture(scope="session")
def parse(alerts_nlp) -> core.Parse:
    """The parse function the stage uses."""
    return core.make_parser(alerts_nlp)


@pytest.fixture
def run(ruleset, parse, make_enriched) -> Callable[..., list[Alert]]:
    """Evaluate the shipped rules on text (or an article)."""

    def go(text: str | EnrichedArticle, rules: core.RuleSet | None = None, **kwargs) -> list[Alert]:
        article = text if isinstance(text, EnrichedArticle) else make_enriched(text, **kwargs)
        return core.evaluate(article, rules or ruleset, parse, fired_at=FIRED_AT)

    return go
