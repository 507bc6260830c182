"""Dedup quality on a sample of the BBC near-duplicate benchmark (tests/bench/dedup_corpus.py).

Reads ../shared/data/bbc at test time. Thresholds sit just under what the sample measured
(seed 3, 100 articles per topic: precision 1.000, recall 0.994, 2,028 bytes per indexed article);
the full benchmark is ``.venv/bin/python tests/bench/bench_dedup.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from shared.schemas import UniqueArticle

from .factories import load_corpus_module, shipped_deduplicator


@pytest.mark.slow
def test_benchmark_sample_meets_the_quality_goal() -> None:
    corpus = load_corpus_module()
    items = corpus.build_stream(seed=3, per_topic=100)
    store: dict[str, Any] = {}
    dedup = shipped_deduplicator(store)
    results = [dedup.process(item.article, now=item.now) for item in items]
    score = corpus.score(items, results)
    assert score.tp + score.fn >= 100  # the sample holds enough duplicates to mean something
    assert score.precision >= 0.995, score.errors
    assert score.recall >= 0.98, score.errors
    assert score.f1 >= 0.99
    indexed = sum(isinstance(r, UniqueArticle) for r in results)
    size = sum(
        len(json.dumps(k)) + len(json.dumps(v, separators=(",", ":"))) for k, v in store.items()
    )
    assert size / indexed <= 2300
