"""dedup index store: consumes the features of decided articles; produces lookups (candidates, live records, sentence holders) and evictions over a caller's ``MutableMapping``.

Pure: the index lives in whatever ``MutableMapping[str, Any]`` the caller passes (a faust Table in
production, a ``dict`` in tests). Every value written is JSON (str, int, float, list, dict) and is
*assigned*, never mutated in place, because a faust Table only records ``store[key] = value``.
It records what it is told; what is unique, a duplicate or due for eviction is decided by
``services.dedup.core``.

Store layout (one flat namespace, short prefixes to keep the changelog small)::

    m:params        {"v", "k", "p", "b", "seed", "bits"}: index parameters; a mismatch is refused
    m:cursor        int: first time slot not yet evicted
    a:<article_id>  unique:    {"t", "h", "n", "m", "f", "e"}: time, hash, shingles, MinHash,
                               distinct sentence fingerprints, and which of those were seen when
                               it was indexed (hex bit mask, bit i for the i-th of "f"; records
                               written before "e" existed lack it)
                    duplicate: {"t", "h", "d", "k", "s"}: time, hash, duplicate_of, kind, similarity
    h:<hash>        article_id that first held this exact body
    b:<band>        [article_id, ...]                   LSH bucket: articles sharing one band
    s:<sentence>    article_id that first held this normalised sentence
    t:<slot>        int                                 number of pages of the time slot
    t:<slot>:<n>    [article_id, ...]                   articles recorded in that slot (page of 64)

Times are whole seconds since the epoch; a time slot is one hour (``SLOT_S``), fixed, because
the slot numbers in ``m:cursor`` and ``t:<slot>`` keys are counted in it. Eviction walks the
slots that have left the window (``m:cursor`` onwards), so it never iterates the whole store;
reads also ignore anything older than the window, so decisions do not depend on when eviction
last ran.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import MutableMapping
from typing import Any, Literal

import numpy as np

from services.dedup.features import FINGERPRINT_WIDTH, Features, digest

__all__ = ["PAGE_SIZE", "SLOT_S", "STORE_VERSION", "Index", "Kind"]

STORE_VERSION = 1
PAGE_SIZE = 64  # ids per time-slot page: bounds the size of one changelog write
SLOT_S = 3600  # seconds per time slot: the granularity of eviction

Kind = Literal["exact", "near", "contained"]
Record = dict[str, Any]


class Index:
    """The time-windowed index of one store: exact hashes, LSH bands, sentences, time slots.

    Candidates come from LSH banding over the store (``bands`` bands of ``num_perm / bands`` rows)
    and from the sentence index; datasketch's own ``MinHashLSH`` is not used because it keeps its
    own in-memory index, which a changelog cannot recover and which never evicts.

    The parameters that make signatures comparable are recorded in the store (``m:params``) on
    first use and checked against it, because signatures made with other parameters cannot be
    compared.
    """

    def __init__(
        self,
        store: MutableMapping[str, Any],
        *,
        window_s: int,
        shingle_size: int,
        num_perm: int,
        bands: int,
        seed: int,
    ) -> None:
        """Bind to ``store``; ``window_s``: records older than this many seconds are ignored."""
        if num_perm % bands:
            raise ValueError("num_perm must be a multiple of bands")
        self.store = store
        self.window_s = window_s
        self.bands = bands
        self.rows = num_perm // bands
        self.params = {
            "v": STORE_VERSION,
            "k": shingle_size,
            "p": num_perm,
            "b": bands,
            "seed": seed,
            "bits": 16,
        }
        self._checked = False

    # ---------------------------------------------------------------- reads

    def check_params(self) -> None:
        """Record the parameters in an empty store; raise ``ValueError`` if it holds others."""
        if self._checked:
            return
        stored = self.store.get("m:params")
        if stored is None:
            self.store["m:params"] = dict(self.params)
        elif stored != self.params:
            raise ValueError(f"dedup store was built with {stored}, not {self.params}")
        self._checked = True

    def live(self, article_id: str, t: int) -> Record | None:
        """The record of ``article_id`` (unique or duplicate) if it is in the window at ``t``."""
        rec: Record | None = self.store.get("a:" + article_id)
        if rec is None or rec["t"] < t - self.window_s:
            return None
        return rec

    def live_unique(self, article_id: str, t: int) -> Record | None:
        """The record of ``article_id`` if it is an indexed unique article in the window at ``t``."""
        rec = self.live(article_id, t)
        return rec if rec is not None and "d" not in rec else None

    def exact_holder(self, hash_key: str) -> str | None:
        """The id of the article that first held this exact body (maybe no longer live)."""
        holder: str | None = self.store.get("h:" + hash_key)
        return holder

    def sentence_holder(self, fingerprint: str) -> str | None:
        """The id of the article that first held this sentence (maybe no longer live)."""
        holder: str | None = self.store.get("s:" + fingerprint)
        return holder

    def candidates(self, f: Features) -> Counter[str]:
        """Votes for every article sharing an LSH band or a sentence with ``f`` (maybe not live)."""
        votes: Counter[str] = Counter()
        for key in self._band_keys(f.signature):
            for article_id in self.store.get(key, ()):
                votes[article_id] += 1
        for fp in set(f.sentences.fingerprints):
            holder = self.sentence_holder(fp)
            if holder is not None:
                votes[holder] += 1
        return votes

    @staticmethod
    def signature(rec: Record) -> np.ndarray:
        """The MinHash signature (uint16) of a unique record."""
        return np.frombuffer(base64.urlsafe_b64decode(rec["m"].encode()), dtype=np.uint16)

    @staticmethod
    def fingerprints(rec: Record) -> list[str]:
        """The distinct sentence fingerprints of a unique record, in the article's order."""
        packed: str = rec["f"]
        w = FINGERPRINT_WIDTH
        return [packed[i : i + w] for i in range(0, len(packed), w)]

    @classmethod
    def recorded_seen(cls, rec: Record) -> dict[str, bool] | None:
        """The seen flags of a unique record's first visit (fingerprint -> seen).

        None for a record written before the flags were stored: the caller falls back to the index.
        """
        # "e" is a hex bit mask over the distinct fingerprints of "f", in their order.
        if "e" not in rec:
            return None
        mask = int(rec["e"], 16)
        return {fp: bool(mask >> i & 1) for i, fp in enumerate(cls.fingerprints(rec))}

    # ---------------------------------------------------------------- writes

    def add_unique(self, article_id: str, f: Features, seen: set[str], t: int) -> None:
        """Index a unique article at time ``t``; ``seen``: its fingerprints seen before it."""
        store = self.store
        distinct = list(dict.fromkeys(f.sentences.fingerprints))
        # The seen flags of this first visit, one bit per distinct fingerprint, so that a replay
        # can give them again: "0" when nothing was seen, a few hex digits otherwise. (One
        # sentence repeated inside the article gets one flag: both copies were looked up in the
        # same index, before the article was added to it.)
        mask = sum(1 << i for i, fp in enumerate(distinct) if fp in seen)
        store["h:" + f.hash_key] = article_id
        for key in self._band_keys(f.signature):
            bucket = store.get(key, [])
            if article_id not in bucket:
                store[key] = [*bucket, article_id]  # a new list: a faust Table records assignments
        for fp in distinct:
            holder = store.get("s:" + fp)
            if holder is None or self.live_unique(holder, t) is None:
                store["s:" + fp] = article_id
        self._add_to_slot(article_id, t)
        # The record last: it is what marks the article as indexed, so a worker that dies part-way
        # leaves none and the replay indexes the article again, whole (every write above is
        # idempotent), instead of republishing it over a half-built index.
        store["a:" + article_id] = {
            "t": t,
            "h": f.hash_key,
            "n": f.shingles,
            "m": base64.urlsafe_b64encode(f.signature.tobytes()).decode(),
            "f": "".join(distinct),
            "e": format(mask, "x"),
        }

    def add_duplicate(
        self,
        article_id: str,
        hash_key: str,
        duplicate_of: str,
        kind: Kind,
        similarity: float,
        t: int,
    ) -> None:
        """Remember a duplicate verdict so that a replay repeats it; never over a unique record."""
        existing = self.store.get("a:" + article_id)
        if existing is not None and "d" not in existing:
            return  # the index still needs the unique record
        # The slot first, as in add_unique: a record is never left unevictable.
        self._add_to_slot(article_id, t)
        self.store["a:" + article_id] = {
            "t": t,
            "h": hash_key,
            "d": duplicate_of,
            "k": kind,
            "s": similarity,
        }

    def remove(self, article_id: str, rec: Record) -> None:
        """Remove an article and every index key that points at it (idempotent)."""
        store = self.store
        if "d" in rec:
            store.pop("a:" + article_id, None)
            return
        if store.get("h:" + rec["h"]) == article_id:
            del store["h:" + rec["h"]]
        for key in self._band_keys(self.signature(rec)):
            bucket = store.get(key)
            if bucket is None or article_id not in bucket:
                continue
            rest = [a for a in bucket if a != article_id]
            if rest:
                store[key] = rest
            else:
                del store[key]
        for fp in self.fingerprints(rec):
            if store.get("s:" + fp) == article_id:
                del store["s:" + fp]
        # The record last, as in add_unique: a worker dying part-way leaves it, and the replay
        # redoes the removal.
        store.pop("a:" + article_id, None)

    # ---------------------------------------------------------------- eviction

    def oldest_unevicted_end(self) -> int | None:
        """When the oldest time slot not yet evicted ends (None: nothing was ever recorded).

        Articles recorded in it have all left the window once ``t - window`` reaches it.
        """
        cursor: int | None = self.store.get("m:cursor")
        return None if cursor is None else (cursor + 1) * SLOT_S

    def evict_expired(self, t: int) -> int:
        """Remove every article recorded before ``t - window``; return how many it removed.

        Walks the time slots from ``m:cursor`` to the last one wholly outside the window. Crash
        safe: a slot's pages are deleted only after their articles were removed, and the cursor
        moves last, so a worker that dies part-way leaves the rest for the next pass to redo.
        """
        store = self.store
        cursor = store.get("m:cursor")
        if cursor is None:
            return 0
        cutoff = t - self.window_s
        last = cutoff // SLOT_S  # slots before this one lie wholly outside the window
        if cursor >= last:
            return 0
        removed = 0
        for slot in range(cursor, last):
            pages = store.get(f"t:{slot}", 0)
            for n in range(pages):
                for article_id in store.get(f"t:{slot}:{n}", []):
                    rec = store.get("a:" + article_id)
                    # A later re-submission may have refreshed the record: only expired ones go.
                    if rec is not None and rec["t"] < cutoff:
                        self.remove(article_id, rec)
                        removed += 1
                store.pop(f"t:{slot}:{n}", None)
            store.pop(f"t:{slot}", None)
        store["m:cursor"] = last
        return removed

    # ---------------------------------------------------------------- internals

    def _band_keys(self, signature: np.ndarray) -> list[str]:
        r = self.rows
        return [
            "b:" + digest(i.to_bytes(2, "little") + signature[i * r : (i + 1) * r].tobytes())
            for i in range(self.bands)
        ]

    def _add_to_slot(self, article_id: str, t: int) -> None:
        store = self.store
        slot = t // SLOT_S
        cursor = store.get("m:cursor")
        if cursor is None:
            store["m:cursor"] = slot
        elif slot < cursor:
            # An article older than what eviction has already walked (a replay of one whose record
            # was evicted, or a late arrival): file it in the first slot still to be walked, or
            # no eviction would ever remove it. It is expired by then, so the next pass does.
            slot = cursor
        pages = store.get(f"t:{slot}", 0)
        page = store.get(f"t:{slot}:{pages - 1}", []) if pages else []
        if not pages or len(page) >= PAGE_SIZE:
            pages += 1
            page = []
            store[f"t:{slot}"] = pages
        store[f"t:{slot}:{pages - 1}"] = [*page, article_id]
