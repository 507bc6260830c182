"""The stories store's size: JSON bytes held per article, and the bytes its writes send to the changelog."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any, NamedTuple

from services.stories.core import ARTICLE, STORY


def record_bytes(key: str, value: Any) -> int:
    """One entry as the faust Table's changelog holds it: its key and its value, each as JSON."""
    return len(json.dumps(key)) + len(json.dumps(value))


class StoreSize(NamedTuple):
    """What a stories store holds: stories, article keys, and its JSON bytes (keys included)."""

    stories: int
    articles: int
    bytes: int

    @property
    def per_article(self) -> float:
        """Bytes per article still held (each article keeps its ``a:`` key while its window is open)."""
        return self.bytes / self.articles if self.articles else 0.0


def store_size(store: Mapping[str, Any]) -> StoreSize:
    """The store's stories, articles and bytes, every entry counted as ``record_bytes`` counts it."""
    return StoreSize(
        stories=sum(1 for key in store if key.startswith(STORY)),
        articles=sum(1 for key in store if key.startswith(ARTICLE)),
        bytes=sum(record_bytes(key, value) for key, value in store.items()),
    )


class CountingStore(MutableMapping[str, Any]):
    """A dict that counts what a changelogged faust Table would send: one record per write or delete.

    Each write sends the key and its whole value (a story rewritten with each article that joins
    it); each delete sends a tombstone (the key, no value). Before compaction the changelog holds
    all of them; after, one record per live key: what ``store_size`` counts.
    """

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.writes = 0
        self.written_bytes = 0

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.data[key] = value
        self.writes += 1
        self.written_bytes += record_bytes(key, value)

    def __delitem__(self, key: str) -> None:
        del self.data[key]
        self.writes += 1
        self.written_bytes += len(json.dumps(key))

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)
