"""Dedup under at-least-once delivery: a worker that dies replays its last messages, which must
publish what they published the first time, and complete what a dying worker left half-written.

The slow test streams the near-duplicate sample of evaluation/dedup/corpus.py (reads the corpora's
bbc/ at test time, ``NEWS_CORPORA_DIR``).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Iterator, MutableMapping
from datetime import timedelta
from typing import Any

import pytest

from services.dedup.core import Deduplicator
from shared.schemas import CleanArticle, DuplicateNotice, UniqueArticle

from .factories import (
    T0,
    edit_words,
    index_store_keys,
    load_corpus_module,
    make_deduplicator,
    read_seed,
    shipped_deduplicator,
)

CRASH_EVERY = 50  # a worker dies after every 50th message...
REPLAYED = 20  # ...and its successor replays the last 20 (their offsets were not committed)


class WorkerDied(Exception):
    pass


class DyingStore(MutableMapping[str, Any]):
    """A dict that lets ``writes_left`` assignments or deletions through, then kills the worker.

    What reached the changelog before the kill is what the successor's Table holds.
    """

    def __init__(self, data: dict[str, Any], writes_left: float = math.inf) -> None:
        self.data = data
        self.writes_left = writes_left
        self.writes = 0

    def _write(self) -> None:
        if self.writes >= self.writes_left:
            raise WorkerDied
        self.writes += 1

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._write()
        self.data[key] = value

    def __delitem__(self, key: str) -> None:
        self._write()
        del self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def without_time_index(store: MutableMapping[str, Any]) -> dict[str, Any]:
    # A replay after a kill may file the article in its time slot twice; eviction copes.
    return {k: v for k, v in store.items() if not k.startswith("t:")}


def article(article_id: str, text: str, minutes: int) -> CleanArticle:
    return CleanArticle(
        article_id=article_id, text=text, ingested_at=T0 + timedelta(minutes=minutes)
    )


def process(dedup: Deduplicator, a: CleanArticle) -> UniqueArticle | DuplicateNotice:
    return dedup.process(a, now=a.ingested_at)


SCENARIOS: dict[str, Callable[[], tuple[list[CleanArticle], CleanArticle, list[CleanArticle]]]] = {
    # (already processed, the message being processed when the worker dies, later messages)
    "new unique article": lambda: (
        [article("000", read_seed("000"), 0)],
        article("002", read_seed("002"), 1),
        [
            article("copy", read_seed("002"), 2),
            article("trunc", read_seed("002")[: len(read_seed("002")) // 2], 3),
        ],
    ),
    "same id, new body": lambda: (
        [article("000", read_seed("000"), 0), article("x", read_seed("003"), 1)],
        article("x", read_seed("002"), 2),
        [article("was-x", read_seed("003"), 3), article("copy", read_seed("002"), 4)],
    ),
    "duplicate": lambda: (
        [article("000", read_seed("000"), 0)],
        article("dup", edit_words(read_seed("000"), 0.03), 1),
        [article("dup2", edit_words(read_seed("000"), 0.03, seed=2), 2)],
    ),
    # 31 days on, the first two have left the 30-day window: the victim evicts them first.
    "eviction due": lambda: (
        [
            article("000", read_seed("000"), 0),
            article("dup", edit_words(read_seed("000"), 0.03), 1),
        ],
        article("002", read_seed("002"), 31 * 24 * 60),
        [article("again", read_seed("000"), 31 * 24 * 60 + 1)],
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_worker_killed_at_any_write_is_repaired_by_the_replay(scenario: str) -> None:
    before, victim, later = SCENARIOS[scenario]()
    base: dict[str, Any] = {}
    for a in before:
        process(make_deduplicator(base), a)
    reference = copy.deepcopy(base)
    ref = make_deduplicator(reference)
    expected = process(ref, victim)
    expected_later = [process(ref, a) for a in later]
    counting = DyingStore(copy.deepcopy(base))
    process(make_deduplicator(counting), victim)
    assert counting.writes >= 2

    for n in range(counting.writes):
        data = copy.deepcopy(base)
        with pytest.raises(WorkerDied):
            process(make_deduplicator(DyingStore(data, writes_left=n)), victim)
        # The successor: the Table rebuilt from the changelog, then the uncommitted message again.
        data = json.loads(json.dumps(data))
        dedup = make_deduplicator(data)
        assert process(dedup, victim) == expected, f"killed after {n} writes"
        assert [process(dedup, a) for a in later] == expected_later, f"killed after {n} writes"
        assert without_time_index(data) == without_time_index(reference), f"after {n} writes"
        dedup.evict(max(a.ingested_at for a in [victim, *later]) + timedelta(days=31))
        assert index_store_keys(data) == set(), f"killed after {n} writes"


@pytest.mark.slow
def test_replays_after_crashes_republish_the_first_results_and_write_nothing() -> None:
    items = load_corpus_module().build_stream(seed=3, per_topic=100)
    store: dict[str, Any] = {}
    dedup = shipped_deduplicator(store)
    first: list[UniqueArticle | DuplicateNotice] = []
    replayed_unique = replayed_seen = 0
    for i, item in enumerate(items):
        first.append(dedup.process(item.article, now=item.now))
        if i % CRASH_EVERY != CRASH_EVERY - 1:
            continue
        # The successor rebuilds the store from the Table's JSON changelog, then replays.
        before = json.dumps(store, sort_keys=True)
        store = json.loads(before)
        dedup = shipped_deduplicator(store)
        for j in range(i - REPLAYED + 1, i + 1):
            again = dedup.process(items[j].article, now=items[j].now)
            assert again == first[j], items[j].article.article_id
            if isinstance(again, UniqueArticle):
                replayed_unique += 1
                replayed_seen += any(s.seen for s in again.sentences)
        assert json.dumps(store, sort_keys=True) == before  # replays write nothing
    # Mostly unique articles were replayed, some with sentences an earlier article held.
    assert replayed_unique > 100
    assert replayed_seen >= 1
