"""entities' handler: unique articles → the same articles with their entities, alone or in batches."""

from __future__ import annotations

from collections import Counter
from collections.abc import MutableMapping, Sequence
from typing import Any

from spacy.language import Language

from services.entities.extract import extract_entities_batch
from services.entities.pipeline import load_nlp
from services.entities.settings import EntitiesSettings
from shared.schemas import EnrichedArticle, UniqueArticle
from shared.stage import BatchResult, Count, Handled


class EntitiesHandler:
    """Unique articles → the same articles with their named and domain entities, alone or in batches."""

    def __init__(self, settings: EntitiesSettings, nlp: Language) -> None:
        self.settings = settings
        self.nlp = nlp

    def __call__(self, value: bytes) -> Handled:
        """One article (``newswatch process``, and the worker when a batch failed)."""
        (enriched,) = self._extract([UniqueArticle.model_validate_json(value)], batch_size=1)
        return _handled(enriched)

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
                results.append(Handled(()))
        # A failure here is the batch's: the worker then calls __call__ on each message alone.
        enriched = self._extract(articles, batch_size=self.settings.entities_batch_size)
        for where, article in zip(decoded, enriched, strict=True):
            results[where] = _handled(article)
        return results

    def _extract(self, articles: list[UniqueArticle], *, batch_size: int) -> list[EnrichedArticle]:
        if not articles:
            return []
        return extract_entities_batch(
            articles,
            self.nlp,
            max_chunk_chars=self.settings.entities_max_chunk_chars,
            max_chars=self.settings.entities_max_chars,
            max_words=self.settings.entities_max_words,
            batch_size=batch_size,
        )


def _handled(article: EnrichedArticle) -> Handled:
    """The enriched article, with its entities counted by label."""
    labels = Counter(entity.label for entity in article.entities)
    return Handled(
        (article,), tuple(Count("entities", (label,), n) for label, n in sorted(labels.items()))
    )


def build(
    settings: EntitiesSettings, store: MutableMapping[str, Any] | None = None
) -> EntitiesHandler:
    """The spaCy model is loaded once; a missing model stops the worker."""
    return EntitiesHandler(settings, load_nlp(settings.entities_spacy_model))
