"""Helpers for the dedup tests: articles, the seed texts, edited copies, stores, and deduplicators with the tests' window."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from services.dedup.core import Deduplicator
from services.dedup.settings import DedupSettings
from shared.schemas import CleanArticle, DuplicateNotice, UniqueArticle

REPO = Path(__file__).resolve().parents[3]
SEEDS = REPO / "seeds"
T0 = datetime(2019, 3, 28, 12, 0, tzinfo=UTC)
# The tests' own window and eviction interval, which their times are chosen around (an article
# 31 days old has left the window); the service's defaults live in services/dedup/settings.py.
WINDOW = timedelta(days=30)
EVICT_EVERY = timedelta(minutes=5)


def make_deduplicator(store: MutableMapping[str, Any], **params: Any) -> Deduplicator:
    """A Deduplicator over ``store`` with the tests' ``WINDOW`` and ``EVICT_EVERY`` unless given."""
    params.setdefault("window", WINDOW)
    params.setdefault("evict_every", EVICT_EVERY)
    return Deduplicator(store, **params)


def shipped_deduplicator(store: MutableMapping[str, Any]) -> Deduplicator:
    """A Deduplicator as the service ships it: the defaults of ``DedupSettings`` (no env read)."""
    defaults = DedupSettings.model_construct()
    return Deduplicator(store, window=defaults.window, evict_every=defaults.evict_every)


def make_article(article_id: str, text: str, **fields: object) -> CleanArticle:
    """A CleanArticle from an id and a text, ingested at ``T0`` unless given."""
    fields.setdefault("ingested_at", T0)
    return CleanArticle(article_id=article_id, text=text, **fields)  # type: ignore[arg-type]


def read_seed(prefix: str) -> str:
    """The text of ``seeds/<prefix>_*.txt``, as scraped."""
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


def split_dump(text: str) -> list[tuple[str | None, str]]:
    """Split seed 004 into its six pages: (url, text), text kept as it is.

    A page starts at a URL line, or at a repeated "World News" header: the second Reuters copy
    arrived without its URL line.
    """
    parts: list[tuple[str | None, list[str]]] = []
    for line in text.split("\n"):
        if line.startswith("http"):
            parts.append((line, []))
        elif line == "World News" and parts and parts[-1][1]:
            parts.append((None, [line]))
        else:
            parts[-1][1].append(line)
    return [(url, "\n".join(lines).strip()) for url, lines in parts]


def edit_words(text: str, rate: float, seed: int = 1) -> str:
    """Substitute, delete or insert about ``rate`` of the words."""
    rng = random.Random(seed)
    out: list[str] = []
    for w in text.split(" "):
        r = rng.random()
        if r >= rate:
            out.append(w)
        elif r < rate / 2:
            out.append("zebra")
        elif r < rate * 3 / 4:
            continue
        else:
            out.extend([w, "indeed"])
    return " ".join(out)


def unique(result: object) -> UniqueArticle:
    """``result``, asserted to be a UniqueArticle."""
    assert isinstance(result, UniqueArticle), result
    return result


def duplicate(result: object) -> DuplicateNotice:
    """``result``, asserted to be a DuplicateNotice."""
    assert isinstance(result, DuplicateNotice), result
    return result


def index_store_keys(store: MutableMapping[str, Any]) -> set[str]:
    """The keys of a store that belong to articles (all but the ``m:`` bookkeeping)."""
    return {k for k in store if not k.startswith("m:")}


class FaustLikeStore(MutableMapping[str, Any]):
    """A store that, like a faust Table's changelog, only keeps what is assigned.

    ``get`` hands out deep copies, so a value mutated in place is silently lost, as it would be
    after a faust worker restart; values must also survive JSON.
    """

    def __init__(self) -> None:
        self._data: dict[str, str] = {}

    def __getitem__(self, key: str) -> Any:
        return json.loads(self._data[key])

    def __setitem__(self, key: str, value: Any) -> None:
        assert isinstance(key, str)
        self._data[key] = json.dumps(value)

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def load_corpus_module() -> ModuleType:
    """evaluation/dedup/corpus.py, the BBC near-duplicate stream and its labels (reads the corpora's bbc/, ``NEWS_CORPORA_DIR``)."""
    from evaluation.dedup import corpus

    return corpus
