"""Fixtures for the alerts tests: articles from text, rules, the pipeline.

Enriched articles built from text, rules files, the rules and the parsing pipeline (the real
model: slow tests).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from spacy.language import Language

from services.alerts.compile import RuleSet, load_rules
from services.alerts.evaluate import Parse, evaluate, make_parser
from services.alerts.handler import load_nlp
from shared.embed import SentenceEmbedder
from shared.schemas.articles import Alert, EnrichedArticle, Entity
from tests.factories import split_sentences  # dedup's real segmentation

SEEDS = Path(__file__).resolve().parents[3] / "seeds"
FIRED_AT = datetime(2019, 3, 28, 12, 0, tzinfo=UTC)
# Two sentences of the seeds: the Russian arrival in Caracas, and the denial of a contingent.
CARACAS = (
    "Tensions between the U.S. and Russia escalated over the weekend when a Russian Il-62 passenger jet "
    "and an An-124 military cargo plane carrying troops and equipment arrived at the international "
    "airport outside Caracas on Saturday."
)
DENIAL = (
    "But Zakharova, in her statement Saturday, said Russia had made it clear it was not sending a "
    "military contingent to Venezuela."
)

# A valid rule, for rules files written by tests.
GOOD = {
    "id": "ships",
    "severity": "low",
    "patterns": {"ship": [[{"LEMMA": {"IN": ["warship", "frigate"]}}]]},
    "conditions": [{"tokens": "ship"}],
}


def write(path: Path, *rules: dict) -> Path:
    """Write a rules file of ``rules``."""
    path.write_text(yaml.safe_dump({"rules": list(rules)}), encoding="utf-8")
    return path


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


def entity(
    text: str, sentence_text: str, label: str, *, offset: int = 0, sentence: int = 0, **fields
) -> Entity:
    """An entity of the entities stage, built by hand: ``text`` found in ``sentence_text`` (which starts at ``offset``)."""
    start = sentence_text.index(text) + offset
    return Entity(
        text=text, label=label, start=start, end=start + len(text), sentence=sentence, **fields
    )


@pytest.fixture(scope="session")
def alerts_nlp() -> Language:
    """The alerts stage's pipeline (en_core_web_sm with parser and lemmatizer), once a session."""
    return load_nlp("en_core_web_sm")


@pytest.fixture(scope="session")
def embedder() -> SentenceEmbedder:
    """The sentence embedder rules by example score with (the packaged model), once a session."""
    return SentenceEmbedder()


@pytest.fixture(scope="session")
def ruleset(alerts_nlp, embedder) -> RuleSet:
    """The shipped rules, compiled on the real vocabulary, with the embedder."""
    return load_rules(vocab=alerts_nlp.vocab, embed=embedder)


def by_syntax(rules: RuleSet) -> RuleSet:
    """``rules`` with every rule deciding by its syntax conditions alone (where it has some)."""
    out = [
        dataclasses.replace(r, rule=r.rule.model_copy(update={"decide": "syntax"}))
        if r.rule.conditions
        else r
        for r in rules.rules
    ]
    return dataclasses.replace(rules, rules=out)


@pytest.fixture(scope="session")
def syntax_rules(ruleset) -> RuleSet:
    """The shipped rules deciding by syntax alone: what the frame and candidate tests test.

    The shipped troop_movement also needs its examples' classifier to agree; the tests of that
    are in test_by_example.py.
    """
    return by_syntax(ruleset)


@pytest.fixture(scope="session")
def parse(alerts_nlp) -> Parse:
    """The parse function the stage uses."""
    return make_parser(alerts_nlp)


@pytest.fixture
def run(syntax_rules, parse, make_enriched) -> Callable[..., list[Alert]]:
    """Evaluate the shipped rules, deciding by syntax, on text (or an article)."""

    def go(text: str | EnrichedArticle, rules: RuleSet | None = None, **kwargs) -> list[Alert]:
        article = text if isinstance(text, EnrichedArticle) else make_enriched(text, **kwargs)
        return evaluate(article, rules or syntax_rules, parse, fired_at=FIRED_AT)

    return go
