"""dedup's handler: a clean article → a unique article with sentence novelty, or a duplicate notice."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from services.dedup import core
from services.dedup.settings import DedupSettings
from shared.schemas import CleanArticle, DuplicateNotice
from shared.stage import Count, Handled, Handler


def build(settings: DedupSettings, store: MutableMapping[str, Any] | None = None) -> Handler:
    """The index lives in ``store``: in the worker a faust Table backed by the changelog topic
    dedup-index-changelog, so a restarted or moved worker rebuilds it before consuming."""
    deduplicator = core.Deduplicator(
        {} if store is None else store, window=settings.window, evict_every=settings.evict_every
    )

    def handle(value: bytes) -> Handled:
        """A clean article → a unique article with sentence novelty, or a duplicate notice."""
        article = CleanArticle.model_validate_json(value)
        # The article's own ingest time, not the clock: a replayed message gets the same
        # decision, and the core evicts (when due) by that time too, inside this call, where
        # faust allows Table writes.
        out = deduplicator.process(article, now=article.ingested_at)
        counts = [Count("dedup_evicted", (), deduplicator.evicted)]
        if isinstance(out, DuplicateNotice):
            counts.append(Count("duplicates", (out.kind,)))
        return Handled((out,), tuple(counts))

    return handle
