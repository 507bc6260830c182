"""dedup's stage: consumes news.clean-article.v1, produces news.unique-article.v1 or news.duplicate-notice.v1, dead-letters news.dedup.dlq."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

from services.dedup import core
from services.dedup.settings import DedupSettings
from shared.metrics import ServiceMetrics
from shared.schemas import CleanArticle, DuplicateNotice, Message
from shared.stage import Handler, Stage
from shared.topics import CLEAN_ARTICLES, DUPLICATES, UNIQUE_ARTICLES


def build(settings: DedupSettings, store: MutableMapping[str, Any] | None, metrics: ServiceMetrics) -> Handler:
    """The index lives in ``store``: in the worker a faust Table backed by the changelog topic
    dedup-index-changelog, so a restarted or moved worker rebuilds it before consuming."""
    deduplicator = core.Deduplicator({} if store is None else store,
                                     window=settings.window, evict_every=settings.evict_every)
    evicted = metrics.counter("dedup_evicted", "Index entries evicted for leaving the time window.")

    def handle(value: bytes) -> list[Message]:
        """A clean article → a unique article with sentence novelty, or a duplicate notice."""
        article = CleanArticle.model_validate_json(value)
        try:
            # The article's own ingest time, not the clock: a replayed message gets the same
            # decision, and the core evicts (when due) by that time too, inside this call, where
            # faust allows Table writes.
            return [deduplicator.process(article, now=article.ingested_at)]
        finally:
            # Counted even when process fails after evicting: what was evicted is gone.
            evicted.labels(metrics.service).inc(deduplicator.evicted)

    return handle


def observe(metrics: ServiceMetrics, outputs: Sequence[Message]) -> None:
    """Duplicates by kind."""
    counter = metrics.counter("duplicates", "Articles dropped as duplicates, by kind.", ("kind",))
    for out in outputs:
        if isinstance(out, DuplicateNotice):
            counter.labels(metrics.service, out.kind).inc()


# Stateful (the index), so it runs inline: its work is linear in the text, which clean bounds.
STAGE = Stage("dedup", CLEAN_ARTICLES, (UNIQUE_ARTICLES, DUPLICATES), DedupSettings, build,
              observe=observe, table="index", isolated=False)
