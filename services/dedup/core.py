"""dedup core: consumes CleanArticle; produces UniqueArticle or DuplicateNotice; rejects empty text.

The decision: exact, near or contained duplicate, or unique with sentence novelty, and when to
evict. It computes text features with ``services.dedup.features`` and reads and writes the index
through ``services.dedup.index`` (where the store layout is described). Pure: the store is any
``MutableMapping[str, Any]`` the caller passes (a faust Table in production, a ``dict`` in tests).
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from services.dedup.features import (
    Features,
    Featurizer,
    SentenceFeatures,
    body_keys,
    normalise_tokens,
)
from services.dedup.index import Index, Kind
from shared.errors import Reject
from shared.schemas import CleanArticle, DuplicateNotice, Sentence, UniqueArticle

__all__ = ["Deduplicator", "Match"]


@dataclass(frozen=True)
class Match:
    """How a new article compares with one indexed article (what ``Deduplicator.explain`` returns).

    ``jaccard`` is the MinHash estimate of the shingle Jaccard similarity; ``containment`` the
    share of the new article's shingles estimated to be in the old one; ``sentence_containment``
    the share of its words that sit in sentences the old article held verbatim (normalised).
    """

    article_id: str
    indexed_at: int
    jaccard: float
    containment: float
    sentence_containment: float


def _epoch(when: datetime) -> int:
    if when.tzinfo is None:  # naive datetimes are taken as UTC, never as local time
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


class Deduplicator:
    """Exact and near-duplicate detection plus sentence novelty over a time-windowed index.

    ``store`` is any ``MutableMapping[str, Any]`` (faust Table, dict). One instance owns one store;
    the index parameters are recorded in the store and checked on first use, because signatures
    made with other parameters cannot be compared.

    An article is a duplicate of an indexed (unique, in-window) article when:

    * its normalised body hashes the same (kind ``exact``); or
    * the MinHash estimate of the Jaccard similarity of their word shingles is at least
      ``near_threshold`` (kind ``near``); or
    * at least ``containment_threshold`` of it is contained in the indexed one, estimated from the
      MinHash and shingle counts, or measured on verbatim sentences (kind ``contained``): a
      truncated copy, or one with a new headline, dateline, footer or teaser lines.

    Candidates come from the index's LSH bands and sentence index (``services.dedup.index``).
    Duplicates are not indexed: the first article seen stays the reference for its copies.

    Eviction is decided here, from the time each article is processed at (its ``ingested_at``)
    and the store, never from a clock: the index is kept in one-hour slots, and ``process``
    evicts every expired slot once the oldest one has been outside the window for at least
    ``evict_every``. So passes are at least ``evict_every`` of article time apart, the index holds
    at most ``window + evict_every`` plus one hour, and a replay, a restarted worker (the slot
    cursor is in the store) and ``newswatch process`` evict at the same articles.
    """

    def __init__(
        self,
        store: MutableMapping[str, Any],
        *,
        window: timedelta,
        evict_every: timedelta,
        near_threshold: float = 0.5,
        containment_threshold: float = 0.5,
        min_containment_shingles: int = 8,
        shingle_size: int = 3,
        num_perm: int = 128,
        bands: int = 32,
        max_candidates: int = 20,
        seed: int = 1,
        nlp: Any = None,
    ) -> None:
        """Bind the index to ``store``; nothing is read or written until the first ``process``.

        ``window`` bounds what is remembered and ``evict_every`` how long expired articles may stay
        before ``process`` evicts them (both from the service's settings). Thresholds (defaults
        measured with evaluation/dedup/bench.py, see its README): ``near_threshold`` on the
        MinHash Jaccard estimate, ``containment_threshold`` on the larger of the two containment
        scores, ``min_containment_shingles`` below which the MinHash containment estimate is not
        used. Index shape: word ``shingle_size``-grams, ``num_perm`` permutations in ``bands``
        LSH bands, at most ``max_candidates`` verified per article. ``nlp`` is a spaCy pipeline
        with sentence boundaries (default: blank English with a sentencizer).
        """
        if evict_every < timedelta(0):
            raise ValueError("evict_every must not be negative")
        self.store = store
        self.window = int(window.total_seconds())
        self.evict_every = int(evict_every.total_seconds())
        self.near_threshold = near_threshold
        self.containment_threshold = containment_threshold
        self.min_containment_shingles = min_containment_shingles
        self.num_perm = num_perm
        self.max_candidates = max_candidates
        self.index = Index(
            store,
            window_s=self.window,
            shingle_size=shingle_size,
            num_perm=num_perm,
            bands=bands,
            seed=seed,
        )
        self.featurizer = Featurizer(
            shingle_size=shingle_size, num_perm=num_perm, seed=seed, nlp=nlp
        )
        self.evicted = 0
        """How many articles the latest ``process`` call evicted (0 when it did not evict)."""

    # ---------------------------------------------------------------- public API

    def process(self, article: CleanArticle, *, now: datetime) -> UniqueArticle | DuplicateNotice:
        """Classify one article and, when it is unique, index it; evict first when due.

        Returns a ``DuplicateNotice`` (exact, near or contained, with the first article seen as
        ``duplicate_of``) or a ``UniqueArticle`` whose sentences carry ``seen=True`` when an
        earlier in-window article held them. Another id with the same normalised body is an
        ``exact`` duplicate of the first id that had it.

        Replays are idempotent (delivery is at-least-once): the same id with the same normalised
        body, while its record is in the store and in the window, republishes what it got the
        first time and writes nothing. A unique article gets the same ``UniqueArticle`` again:
        same ``content_hash``, sentences recomputed from the text, and each ``seen`` flag read
        back from the article's record, so its own sentences, now in the index, do not count as
        seen. A duplicate gets the very notice it got the first time (same ``duplicate_of``,
        kind and similarity). Records written before the flags were stored lack them: there
        ``seen`` is recomputed from the index, ignoring the article itself, which matches the
        first answer unless an earlier holder of the sentence has since left the store. Once its
        record has left the store, a replay is decided as a new article against what the store
        still holds. The same id with another body is decided afresh; if unique, it replaces
        the old version in the index.

        ``now`` is the time the window is measured against and eviction is decided by (naive
        means UTC); pass the article's ``ingested_at`` so that a replay decides identically.
        ``self.evicted`` then says how many articles this call evicted. Raises
        ``Reject("empty_text")`` for a body without words and ``Reject("missing_id")`` for an
        empty id; a rejected article evicts nothing.
        """
        self.evicted = 0
        if not article.article_id:
            raise Reject("missing_id")
        t = _epoch(now)
        self.index.check_params()
        tokens = normalise_tokens(article.text)
        if not tokens:
            raise Reject("empty_text", f"article {article.article_id!r} has no words")
        # Inside the message's own processing, where a faust Table may be written.
        self.evicted = self._evict_if_due(t)
        text_hash, hash_key = body_keys(tokens)

        own = self.index.live(article.article_id, t)
        if own is not None and own["h"] == hash_key:
            # Same id, same body: a replay. A duplicate gets its first verdict again, word for
            # word, so an at-least-once redelivery emits the same notice.
            if "d" in own:
                return self._notice(article, own["d"], own["k"], own["s"], now)
            # A unique one gets its UniqueArticle again, with the seen flags of the first time:
            # read from its record, never from the index, which now holds its own sentences.
            sentences = self._sentences(
                article,
                self.featurizer.sentences(article.text),
                t,
                recorded=Index.recorded_seen(own),
            )
            return UniqueArticle(
                **article.model_dump(), content_hash=text_hash, sentences=sentences
            )

        first = self.index.exact_holder(hash_key)
        if first is not None and self.index.live_unique(first, t) is not None:
            return self._record_duplicate(article, first, "exact", 1.0, hash_key, t, now)

        features = self.featurizer.features(article.text, tokens)
        verdict = self._best_match(self._matches(features, t))
        if verdict is not None:
            match, kind, similarity = verdict
            return self._record_duplicate(
                article, match.article_id, kind, similarity, hash_key, t, now
            )

        if own is not None and "d" not in own:
            # The same id came back with another body that is not a copy of anything: the new
            # version replaces the old one in the index.
            self.index.remove(article.article_id, own)
        sentences = self._sentences(article, features.sentences, t)
        self.index.add_unique(
            article.article_id, features, {s.fingerprint for s in sentences if s.seen}, t
        )
        return UniqueArticle(**article.model_dump(), content_hash=text_hash, sentences=sentences)

    def explain(self, article: CleanArticle, *, now: datetime) -> list[Match]:
        """Return how ``article`` compares with each indexed candidate, best first (no writes)."""
        tokens = normalise_tokens(article.text)
        if not tokens:
            return []
        matches = self._matches(self.featurizer.features(article.text, tokens), _epoch(now))
        return sorted(
            matches,
            key=lambda m: max(m.jaccard, m.containment, m.sentence_containment),
            reverse=True,
        )

    def evict(self, now: datetime) -> int:
        """Remove every record indexed before ``now - window`` now, whether due or not.

        Returns how many articles it removed. ``process`` evicts by itself when due; this is for
        tools and tests. With faust, call it only where the Table may be written (inside a
        stream's processing).
        """
        return self.index.evict_expired(_epoch(now))

    # ---------------------------------------------------------------- eviction

    def _evict_if_due(self, t: int) -> int:
        # Due once the oldest slot not yet evicted has been wholly outside the window for
        # evict_every. Read from the store alone (its slot cursor), so a restarted worker decides
        # as the one it replaces; after a pass the cursor has moved, so a replay does not evict.
        end = self.index.oldest_unevicted_end()
        if end is None or t - self.window < end + self.evict_every:
            return 0
        return self.index.evict_expired(t)

    # ---------------------------------------------------------------- matching

    def _matches(self, f: Features, t: int) -> list[Match]:
        matches = []
        total = sum(f.sentences.weights) or 1
        for article_id, _ in self.index.candidates(f).most_common(self.max_candidates):
            rec = self.index.live_unique(article_id, t)
            if rec is None:
                continue
            other = Index.signature(rec)
            jaccard = float(np.count_nonzero(other == f.signature)) / self.num_perm
            if f.shingles >= self.min_containment_shingles:
                containment = min(
                    1.0, jaccard * (f.shingles + rec["n"]) / ((1 + jaccard) * f.shingles)
                )
            else:
                containment = 0.0  # too few shingles for the estimate to mean anything
            held = set(Index.fingerprints(rec))
            shared = sum(
                w
                for fp, w in zip(f.sentences.fingerprints, f.sentences.weights, strict=True)
                if fp in held
            )
            matches.append(Match(article_id, rec["t"], jaccard, containment, shared / total))
        return matches

    def _best_match(self, matches: Sequence[Match]) -> tuple[Match, Kind, float] | None:
        passing: list[tuple[Match, Kind, float]] = []
        for m in matches:
            if m.jaccard >= self.near_threshold:
                passing.append((m, "near", m.jaccard))
            else:
                contained = max(m.containment, m.sentence_containment)
                if contained >= self.containment_threshold:
                    passing.append((m, "contained", contained))
        if not passing:
            return None
        # The first article seen is the reference; the higher score breaks a tie.
        return min(passing, key=lambda p: (p[0].indexed_at, -p[2]))

    # ---------------------------------------------------------------- results

    def _sentences(
        self,
        article: CleanArticle,
        sf: SentenceFeatures,
        t: int,
        *,
        recorded: dict[str, bool] | None = None,
    ) -> list[Sentence]:
        """Return the sentences with their ``seen`` flags.

        A flag comes from ``recorded`` (fingerprint -> seen, read back from the article's record
        on a replay) when it has the fingerprint, else from the index: seen when another live
        unique article holds the sentence. The article itself never counts: on a first visit it
        holds nothing live, and on a replay of a record without flags its own sentences are in
        the index.
        """
        text = article.text
        out = []
        for i, ((s, e), fp) in enumerate(zip(sf.spans, sf.fingerprints, strict=True)):
            if recorded is not None and fp in recorded:
                seen = recorded[fp]
            else:
                holder = self.index.sentence_holder(fp)
                seen = (
                    holder is not None
                    and holder != article.article_id
                    and self.index.live_unique(holder, t) is not None
                )
            out.append(Sentence(index=i, start=s, end=e, text=text[s:e], seen=seen, fingerprint=fp))
        return out

    def _record_duplicate(
        self,
        article: CleanArticle,
        duplicate_of: str,
        kind: Kind,
        similarity: float,
        hash_key: str,
        t: int,
        now: datetime,
    ) -> DuplicateNotice:
        similarity = round(min(1.0, similarity), 4)
        # Remembered so that a replay repeats this verdict.
        self.index.add_duplicate(article.article_id, hash_key, duplicate_of, kind, similarity, t)
        return self._notice(article, duplicate_of, kind, similarity, now)

    @staticmethod
    def _notice(
        article: CleanArticle, duplicate_of: str, kind: Kind, similarity: float, now: datetime
    ) -> DuplicateNotice:
        return DuplicateNotice(
            article_id=article.article_id,
            duplicate_of=duplicate_of,
            kind=kind,
            similarity=similarity,
            title=article.title,
            url=article.url,
            source=article.source,
            detected_at=now,
        )
