"""entities' stage: consumes news.unique-article.v1, produces news.enriched-article.v1, dead-letters news.entities.dlq."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

from spacy.language import Language

from services.entities.extract import extract_entities_batch
from services.entities.pipeline import load_nlp
from services.entities.settings import EntitiesSettings
from shared.metrics import ServiceMetrics
from shared.schemas import EnrichedArticle, Message, UniqueArticle
from shared.stage import Batching, BatchResult, Stage
from shared.topics import ENRICHED_ARTICLES, UNIQUE_ARTICLES


class EntitiesHandler:
    """Unique articles → the same articles with their named and domain entities, alone or in batches."""

    def __init__(self, settings: EntitiesSettings, nlp: Language) -> None:
        self.settings = settings
        self.nlp = nlp

    def __call__(self, value: bytes) -> list[Message]:
        """One article (``newswatch process``, and the worker when a batch failed)."""
        return list(self._extract([UniqueArticle.model_validate_json(value)], batch_size=1))

    def batch(self, values: Sequence[bytes]) -> BatchResult:
        """Many articles through one ``nlp.pipe``; one that does not decode is answered alone."""
        results: BatchResult = []
        articles: list[UniqueArticle] = []
        decoded: list[int] = []  # where each article's result goes
        for value in values:
            try:
                articles.append(UniqueArticle.model_validate_json(value))
            except Exception as error:  # noqa: BLE001 — a message that does not decode is its own dead letter
                results.append(error)
            else:
                decoded.append(len(results))
                results.append([])
        # A failure here is the batch's: the worker then calls __call__ on each message alone.
        for where, enriched in zip(decoded, self._extract(articles, batch_size=self.settings.entities_batch_size),
                                   strict=True):
            results[where] = [enriched]
        return results

    def _extract(self, articles: list[UniqueArticle], *, batch_size: int) -> list[EnrichedArticle]:
        if not articles:
            return []
        return extract_entities_batch(articles, self.nlp,
                                      max_chunk_chars=self.settings.entities_max_chunk_chars,
                                      max_chars=self.settings.entities_max_chars,
                                      max_words=self.settings.entities_max_words,
                                      batch_size=batch_size)


def build(settings: EntitiesSettings, store: MutableMapping[str, Any] | None,
          metrics: ServiceMetrics) -> EntitiesHandler:
    """The spaCy model is loaded once; a missing model stops the worker."""
    return EntitiesHandler(settings, load_nlp(settings.entities_spacy_model))


def batching(settings: EntitiesSettings) -> Batching:
    """The worker's batches, from the settings."""
    return Batching(size=settings.entities_batch_size, within_s=settings.entities_batch_within_s,
                    max_bytes=settings.entities_batch_max_bytes, budget_s=settings.entities_batch_budget_s)


def observe(metrics: ServiceMetrics, outputs: Sequence[Message]) -> None:
    """Entities by label."""
    counter = metrics.counter("entities", "Entities extracted, by label.", ("label",))
    for out in outputs:
        if isinstance(out, EnrichedArticle):
            for entity in out.entities:
                counter.labels(metrics.service, entity.label).inc()


STAGE = Stage("entities", UNIQUE_ARTICLES, (ENRICHED_ARTICLES,), EntitiesSettings, build, observe=observe,
              batching=batching)
