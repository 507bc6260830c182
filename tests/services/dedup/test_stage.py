"""dedup's stage handler: it counts in news_dedup_evicted_total what the core reports as evicted."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry

from services.dedup.settings import DedupSettings
from services.dedup.stage import STAGE
from shared.metrics import ServiceMetrics
from shared.schemas import UniqueArticle

from .factories import T0, make_article, read_seed


def encoded(article_id: str, text: str, ingested_at: datetime) -> bytes:
    return make_article(article_id, text, ingested_at=ingested_at).model_dump_json().encode()


def test_evictions_decided_by_article_time_are_counted() -> None:
    # Articles of 2019: with the wall clock deciding, nothing would be evicted this fast; by
    # article time the third one, two days on, evicts the first two.
    registry = CollectorRegistry()
    settings = DedupSettings(dedup_window_days=1, dedup_evict_every_ingested_s=300)
    store: dict[str, Any] = {}
    handle = STAGE.build(settings, store, ServiceMetrics("dedup", registry))

    def evicted() -> float | None:
        return registry.get_sample_value("news_dedup_evicted_total", {"service": "dedup"})

    handle(encoded("a", read_seed("000"), T0))
    handle(encoded("b", read_seed("001"), T0 + timedelta(hours=1)))
    assert evicted() == 0
    (out,) = handle(encoded("c", read_seed("003"), T0 + timedelta(days=2)))
    assert isinstance(out, UniqueArticle)
    assert evicted() == 2
    assert not {"a:a", "a:b"} & set(store)
    handle(encoded("c", read_seed("003"), T0 + timedelta(days=2)))  # a replay
    assert evicted() == 2
