"""dedup's handler: it reports as news_dedup_evicted_total's count what the core evicted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from services.dedup.settings import DedupSettings
from services.dedup.stage import STAGE
from shared.schemas import Message, UniqueArticle
from shared.stage import Count

from .factories import T0, make_article, read_seed


def encoded(article_id: str, text: str, ingested_at: datetime) -> bytes:
    return make_article(article_id, text, ingested_at=ingested_at).model_dump_json().encode()


def test_evictions_decided_by_article_time_are_counted() -> None:
    # Articles of 2019: with the wall clock deciding, nothing would be evicted this fast; by
    # article time the third one, two days on, evicts the first two.
    settings = DedupSettings(dedup_window_days=1, dedup_evict_every_ingested_s=300)
    store: dict[str, Any] = {}
    build = STAGE.make_handler(settings, store)
    counted: list[Count] = []

    def handle(value: bytes) -> Sequence[Message]:
        handled = build(value)
        counted.extend(handled.counts)
        return handled.outputs

    def evicted() -> float:
        return sum(c.value for c in counted if c.metric == "dedup_evicted")

    handle(encoded("a", read_seed("000"), T0))
    handle(encoded("b", read_seed("001"), T0 + timedelta(hours=1)))
    assert evicted() == 0
    (out,) = handle(encoded("c", read_seed("003"), T0 + timedelta(days=2)))
    assert isinstance(out, UniqueArticle)
    assert evicted() == 2
    assert not {"a:a", "a:b"} & set(store)
    handle(encoded("c", read_seed("003"), T0 + timedelta(days=2)))  # a replay
    assert evicted() == 2
