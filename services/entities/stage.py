"""entities' stage: consumes news.unique-article.v1, produces news.enriched-article.v1, dead-letters news.entities.dlq."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

from services.entities import core
from services.entities.settings import EntitiesSettings
from shared.metrics import ServiceMetrics
from shared.schemas import EnrichedArticle, Message, UniqueArticle
from shared.stage import Handler, Stage
from shared.topics import ENRICHED_ARTICLES, UNIQUE_ARTICLES


def build(settings: EntitiesSettings, store: MutableMapping[str, Any] | None, metrics: ServiceMetrics) -> Handler:
    """The spaCy model is loaded once; a missing model stops the worker."""
    nlp = core.load_nlp(settings.entities_spacy_model)

    def handle(value: bytes) -> list[Message]:
        """A unique article → the same article with its named and domain entities."""
        return [core.extract_entities(UniqueArticle.model_validate_json(value), nlp,
                                      max_chunk_chars=settings.entities_max_chunk_chars,
                                      max_chars=settings.entities_max_chars,
                                      max_words=settings.entities_max_words)]

    return handle


def observe(metrics: ServiceMetrics, outputs: Sequence[Message]) -> None:
    """Entities by label."""
    counter = metrics.counter("entities", "Entities extracted, by label.", ("label",))
    for out in outputs:
        if isinstance(out, EnrichedArticle):
            for entity in out.entities:
                counter.labels(metrics.service, entity.label).inc()


STAGE = Stage("entities", UNIQUE_ARTICLES, (ENRICHED_ARTICLES,), EntitiesSettings, build, observe=observe)
