"""The stories benchmark's measure of state: bytes per article held, and the changelog's writes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np

from evaluation.stories.state import CountingStore, record_bytes, store_size
from services.stories.core import StoryClusterer, story_text, term_counts
from services.stories.settings import StoriesSettings
from shared.schemas import EnrichedArticle


def article(n: int, hours: float) -> EnrichedArticle:
    return EnrichedArticle(
        article_id=f"a{n}",
        title=f"Story number {n}",
        text="Some text.",
        ingested_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=hours),
        sentences=[],
        entities=[],
    )


def test_bytes_per_article_count_every_entry_over_the_articles_held():
    store = {"s:x": {"n": 2}, "a:1": ["x", 0], "a:2": ["x", 1], "w": 1}
    size = store_size(store)
    expected = sum(len(json.dumps(k)) + len(json.dumps(v)) for k, v in store.items())
    assert (size.stories, size.articles, size.bytes) == (1, 2, expected)
    assert size.per_article == expected / 2
    assert store_size({}).per_article == 0.0


def test_counting_store_counts_each_write_and_each_tombstone():
    store = CountingStore()
    store["s:x"] = {"n": 1}
    store["s:x"] = {"n": 2}  # a rewrite is a second record
    assert store.pop("s:x") == {"n": 2}
    assert store.writes == 3
    assert store.written_bytes == 2 * record_bytes("s:x", {"n": 1}) + len(json.dumps("s:x"))
    assert dict(store) == {}


def test_the_clusterer_writes_three_records_per_new_article_whatever_its_terms():
    store = CountingStore()
    settings = StoriesSettings()
    clusterer = StoryClusterer(
        store,
        window=timedelta(days=3),
        threshold=0.99,
        weights=settings.stories_weights,
        brief_weights=settings.stories_brief_weights,
    )
    rng = np.random.default_rng(0)
    terms = 0
    for n in range(4):
        vector = rng.normal(size=8).astype(np.float32)
        item = article(n, n)
        terms += len(term_counts(story_text(item))[0])
        clusterer.assign(item, vector / np.linalg.norm(vector))
    # The watermark, the story and the article's key (its terms' buckets inside), each written
    # once per article: no record per term.
    assert terms > 0
    assert store.writes == 4 * 3
    assert store_size(store).articles == 4
