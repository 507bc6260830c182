"""stories' handler: an enriched article → the same article with its story, and the story's record."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from services.stories.core import StoryClusterer, story_text
from services.stories.settings import StoriesSettings
from shared.embed import SentenceEmbedder
from shared.schemas import EnrichedArticle, StoriedArticle
from shared.stage import Count, Handled, Handler


def clusterer_for(settings: StoriesSettings, store: MutableMapping[str, Any]) -> StoryClusterer:
    """The stories core over ``store`` with the service's settings (the stage and the benches)."""
    return StoryClusterer(
        store,
        window=settings.window,
        single_window=settings.single_window,
        threshold=settings.stories_threshold,
        weights=settings.stories_weights,
        brief_weights=settings.stories_brief_weights,
        evict_every=settings.stories_evict_every,
    )


def embedder_for(settings: StoriesSettings, *, threads: int | None = None) -> SentenceEmbedder:
    """The sentence embedder of titles and leads, as the settings say (the stage and the benches)."""
    return SentenceEmbedder(
        threads=threads or settings.stories_embed_threads,
        quantized=settings.stories_embed_quantized,
        max_tokens=settings.stories_embed_max_tokens,
    )


def build(settings: StoriesSettings, store: MutableMapping[str, Any] | None = None) -> Handler:
    """The embedder is loaded once (~0.4 s); the open stories live in ``store``: in the worker a
    faust Table backed by the changelog topic stories-stories-changelog, so a restarted or moved
    worker rebuilds them before consuming."""
    if store is None:
        raise ValueError("the stories stage needs its store")
    embed = embedder_for(settings)
    clusterer = clusterer_for(settings, store)

    def handle(value: bytes) -> Handled:
        """An enriched article → it with its story (news.storied-article.v1) and the story's record."""
        article = EnrichedArticle.model_validate_json(value)
        record = clusterer.assign(article, embed([story_text(article)])[0])
        # The article's fields are validated already: copy them, do not validate them again.
        storied = StoriedArticle.model_construct(
            **dict(article), story_id=record.story_id, story_size=record.size
        )
        counts = (
            Count("stories", (record.status,)),
            Count("stories_evicted", (), clusterer.evicted),
        )
        return Handled((storied, record), counts)

    return handle
