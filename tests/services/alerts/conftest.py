"""Fixtures for the alerts core: enriched articles built from text, the rules, the real model."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.alerts.core import Rule, load_rules
from shared.schemas.articles import EnrichedArticle, Entity
from tests.factories import split_sentences  # dedup's real segmentation

SEEDS = Path(__file__).resolve().parents[3] / "seeds"
DATA = (
    Path(__file__).resolve().parents[4] / "shared" / "data"
)  # /work/shared/data, read-only corpora
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


@pytest.fixture(scope="session")
def rules() -> list[Rule]:
    """The shipped rules file."""
    return load_rules()


@pytest.fixture(scope="session")
def troop_rule(rules) -> Rule:
    """The flagship troop-movement rule."""
    return next(r for r in rules if r.id == "troop_movement")


