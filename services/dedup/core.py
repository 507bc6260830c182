"""dedup core: consumes CleanArticle; produces UniqueArticle or DuplicateNotice; rejects empty text.

Pure: the index lives in whatever ``MutableMapping[str, Any]`` the caller passes (a faust Table in
production, a ``dict`` in tests). Every value written is JSON (str, int, float, list, dict) and is
*assigned*, never mutated in place, because a faust Table only records ``store[key] = value``.

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

Eviction walks the time slots that have left the window (``m:cursor`` onwards), so it never iterates
the whole store; reads also ignore anything older than the window, so decisions do not depend on
when eviction last ran.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np
from datasketch import MinHash  # type: ignore[import-untyped]

from shared.errors import Reject
from shared.schemas import CleanArticle, DuplicateNotice, Sentence, UniqueArticle
from shared.text import mask_long_runs

__all__ = [
    "Deduplicator",
    "Match",
    "content_hash",
    "normalise_tokens",
    "sentence_fingerprint",
    "split_sentences",
]

STORE_VERSION = 1
PAGE_SIZE = 64  # ids per time-slot page: bounds the size of one changelog write
_FP_BYTES = 6  # 48-bit sentence / band / hash keys: 8 base64 characters, no padding
# The text patterns stay in re, and each is linear: a run of one character class (\w+, [^\n]+),
# or a newline, a run of one class and a newline, so no character is looked at by more
# than two attempts. RE2's binding would re-encode the whole text on every finditer(text, s, e).
_WORD_RE = re.compile(r"\w+")
_BLANK_LINE_RE = re.compile(r"\n[ \t\r\f\v]*\n")
_LINE_RE = re.compile(r"[^\n]+")
# spaCy refuses texts over nlp.max_length (1,000,000): no block longer than _MAX_BLOCK reaches
# it, and long whitespace-free runs reach it as letters (shared.text.mask_long_runs).
_MAX_BLOCK = 100_000

Kind = Literal["exact", "near", "contained"]


# --------------------------------------------------------------------------------------------
# Text: normalisation, hashing, sentences


def normalise_tokens(text: str) -> list[str]:
    """Return the normalised words of ``text``: NFKC, case-folded, punctuation and spacing dropped.

    Curly and straight quotes, dashes and spacing all vanish, so a re-typeset copy normalises to
    the same words as the original.
    """
    return _WORD_RE.findall(unicodedata.normalize("NFKC", text).casefold())


def content_hash(text: str) -> str:
    """Return the SHA-256 (hex) of the normalised body: the key of exact duplicates."""
    return hashlib.sha256(" ".join(normalise_tokens(text)).encode("utf-8")).hexdigest()


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.blake2b(data, digest_size=_FP_BYTES).digest()).decode()


def sentence_fingerprint(sentence: str) -> str:
    """Return the fingerprint of one sentence: 48 bits of BLAKE2b over its normalised words."""
    return _digest(" ".join(normalise_tokens(sentence)).encode("utf-8"))


@functools.cache
def _default_nlp() -> Any:
    # Loaded once per process: a blank English tokenizer plus the rule-based sentencizer, which is
    # all sentence novelty needs (no statistical model, no download).
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


def _blocks(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into blocks that a sentence may never cross.

    Blank lines always separate blocks. A single line break also does, unless the next line starts
    with a lowercase letter: scraped text puts one paragraph, headline or caption per line, while
    a hard-wrapped wire story continues its sentence in lowercase on the next line.
    """
    blocks: list[tuple[int, int]] = []
    for para in _split_keep_offsets(text, _BLANK_LINE_RE):
        start, end = para
        for line in _LINE_RE.finditer(text, start, end):
            s, e = line.span()
            if not text[s:e].strip():
                continue
            first = text[s:e].lstrip()[:1]
            if blocks and blocks[-1][1] >= start and first.islower():
                blocks[-1] = (blocks[-1][0], e)
            else:
                blocks.append((s, e))
    return blocks


def _split_keep_offsets(text: str, sep: re.Pattern[str]) -> Iterable[tuple[int, int]]:
    pos = 0
    for m in sep.finditer(text):
        yield pos, m.start()
        pos = m.end()
    yield pos, len(text)


def _bounded_blocks(text: str, blocks: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``blocks`` with any block over _MAX_BLOCK cut at its last whitespace before the limit."""
    out: list[tuple[int, int]] = []
    for start, end in blocks:
        while end - start > _MAX_BLOCK:
            window = text[start : start + _MAX_BLOCK]
            cut = max(window.rfind(" "), window.rfind("\t"), window.rfind("\n"))
            cut = start + (cut + 1 if cut > 0 else _MAX_BLOCK)
            out.append((start, cut))
            start = cut
        out.append((start, end))
    return out


def split_sentences(text: str, nlp: Any = None) -> list[tuple[int, int]]:
    """Return the character spans of the sentences of ``text``, in order.

    Paragraphs (separated by a blank line) and lines never merge into one sentence (see
    ``_blocks``); inside a block, spaCy's rule-based sentencizer splits on final punctuation and
    keeps abbreviations such as "U.S." whole. Spans are stripped of surrounding whitespace and
    spans without a single word character are dropped. ``nlp`` defaults to a blank English
    pipeline with a sentencizer. Time stays linear in the text: a block of more than 100,000
    characters is cut at whitespace, and a whitespace-free run of more than 200 characters is
    one token to spaCy (its tokenizer is cubic in such runs).
    """
    nlp = nlp if nlp is not None else _default_nlp()
    blocks = _bounded_blocks(text, _blocks(text))
    spans: list[tuple[int, int]] = []
    pieces = (mask_long_runs(text[s:e]) for s, e in blocks)
    for (b_start, _), doc in zip(blocks, nlp.pipe(pieces), strict=True):
        for sent in doc.sents:
            s = b_start + sent.start_char
            e = b_start + sent.end_char
            chunk = text[s:e]
            s += len(chunk) - len(chunk.lstrip())
            e -= len(chunk) - len(chunk.rstrip())
            if e > s and _WORD_RE.search(text, s, e):
                spans.append((s, e))
    return spans


# --------------------------------------------------------------------------------------------
# Similarity


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


@dataclass(frozen=True)
class _Features:
    text_hash: str
    hash_key: str
    shingles: int
    signature: np.ndarray  # uint16 b-bit MinHash
    spans: list[tuple[int, int]]
    fingerprints: list[str]
    weights: list[int]  # normalised words per sentence


def _epoch(when: datetime) -> int:
    if when.tzinfo is None:  # naive datetimes are taken as UTC, never as local time
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode())


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

    Candidates come from LSH banding over the store (``bands`` bands of ``num_perm / bands``
    rows) and from the sentence index; datasketch's own ``MinHashLSH`` is not used because it
    keeps its own in-memory index, which a changelog cannot recover and which never evicts.
    Signatures are datasketch ``MinHash`` values kept as their low 16 bits (b-bit MinHash): a
    chance match costs 1/65536 of Jaccard, and the stored signature halves.

    Duplicates are not indexed: the first article seen stays the reference for its copies.
    """

    def __init__(
        self,
        store: MutableMapping[str, Any],
        *,
        window: timedelta = timedelta(days=30),
        near_threshold: float = 0.5,
        containment_threshold: float = 0.5,
        min_containment_shingles: int = 8,
        shingle_size: int = 3,
        num_perm: int = 128,
        bands: int = 32,
        max_candidates: int = 20,
        slot: timedelta = timedelta(hours=1),
        auto_evict: bool = False,
        seed: int = 1,
        nlp: Any = None,
    ) -> None:
        """Bind the index to ``store``; nothing is read or written until the first ``process``.

        Thresholds (defaults measured with tests/bench/bench_dedup.py, see the README):
        ``near_threshold`` on the MinHash Jaccard estimate, ``containment_threshold`` on the
        larger of the two containment scores, ``min_containment_shingles`` below which the
        MinHash containment estimate is not used. Index shape: word ``shingle_size``-grams,
        ``num_perm`` permutations in ``bands`` LSH bands, at most ``max_candidates`` verified
        per article. ``window`` bounds what is remembered; ``slot`` is the eviction granularity.
        ``auto_evict`` makes ``process`` evict expired slots itself. ``nlp`` is a spaCy pipeline
        with sentence boundaries (default: blank English with a sentencizer).
        """
        if num_perm % bands:
            raise ValueError("num_perm must be a multiple of bands")
        self.store = store
        self.window = int(window.total_seconds())
        self.near_threshold = near_threshold
        self.containment_threshold = containment_threshold
        self.min_containment_shingles = min_containment_shingles
        self.shingle_size = shingle_size
        self.num_perm = num_perm
        self.bands = bands
        self.rows = num_perm // bands
        self.max_candidates = max_candidates
        self.slot = int(slot.total_seconds())
        self.auto_evict = auto_evict
        self.seed = seed
        self.nlp = nlp
        self._params = {
            "v": STORE_VERSION,
            "k": shingle_size,
            "p": num_perm,
            "b": bands,
            "seed": seed,
            "bits": 16,
        }
        self._checked = False
        # Permutations are drawn once: datasketch would redraw them for every MinHash otherwise.
        self._permutations = MinHash(num_perm=num_perm, seed=seed).permutations

    # ---------------------------------------------------------------- public API

    def process(self, article: CleanArticle, *, now: datetime) -> UniqueArticle | DuplicateNotice:
        """Classify one article and, when it is unique, index it.

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

        ``now`` is the time the window is measured against (naive means UTC); pass the article's
        ``ingested_at`` so that a replay decides identically. Raises ``Reject("empty_text")`` for
        a body without words and ``Reject("missing_id")`` for an empty id.
        """
        if not article.article_id:
            raise Reject("missing_id")
        t = _epoch(now)
        self._check_params()
        if self.auto_evict:
            # Cheap unless a slot has just left the window; runs inside the message's own
            # processing, where a faust Table may be written.
            self._evict_expired(t)
        tokens = normalise_tokens(article.text)
        if not tokens:
            raise Reject("empty_text", f"article {article.article_id!r} has no words")
        text_hash = hashlib.sha256(" ".join(tokens).encode("utf-8")).hexdigest()
        hash_key = _b64(bytes.fromhex(text_hash)[:16])

        own = self._live(article.article_id, t)
        if own is not None and own["h"] == hash_key:
            # Same id, same body: a replay. A duplicate gets its first verdict again, word for
            # word, so an at-least-once redelivery emits the same notice.
            if "d" in own:
                return self._notice(article, own["d"], own["k"], own["s"], now)
            # A unique one gets its UniqueArticle again, with the seen flags of the first time:
            # read from its record, never from the index, which now holds its own sentences.
            spans, fingerprints, _ = self._sentence_features(article.text)
            sentences = self._sentences(
                article, spans, fingerprints, t, recorded=self._recorded_seen(own)
            )
            return UniqueArticle(
                **article.model_dump(), content_hash=text_hash, sentences=sentences
            )

        first = self.store.get("h:" + hash_key)
        if first is not None and self._live_unique(first, t) is not None:
            return self._record_duplicate(article, first, "exact", 1.0, hash_key, t, now)

        features = self._features(article.text, tokens, text_hash, hash_key)
        verdict = self._best_match(self._matches(features, t))
        if verdict is not None:
            match, kind, similarity = verdict
            return self._record_duplicate(
                article, match.article_id, kind, similarity, hash_key, t, now
            )

        if own is not None and "d" not in own:
            # The same id came back with another body that is not a copy of anything: the new
            # version replaces the old one in the index.
            self._unindex(article.article_id, own)
        sentences = self._sentences(article, features.spans, features.fingerprints, t)
        self._index(article.article_id, features, {s.fingerprint for s in sentences if s.seen}, t)
        return UniqueArticle(**article.model_dump(), content_hash=text_hash, sentences=sentences)

    def explain(self, article: CleanArticle, *, now: datetime) -> list[Match]:
        """Return how ``article`` compares with each indexed candidate, best first (no writes)."""
        tokens = normalise_tokens(article.text)
        if not tokens:
            return []
        text_hash = hashlib.sha256(" ".join(tokens).encode("utf-8")).hexdigest()
        features = self._features(
            article.text, tokens, text_hash, _b64(bytes.fromhex(text_hash)[:16])
        )
        matches = self._matches(features, _epoch(now))
        return sorted(
            matches,
            key=lambda m: max(m.jaccard, m.containment, m.sentence_containment),
            reverse=True,
        )

    def evict(self, now: datetime) -> int:
        """Remove every record indexed before ``now - window``; return how many articles it removed.

        Walks only the time slots that have left the window since the last call. With faust, call
        it where the Table may be written (inside a stream's processing); ``process`` already does
        so when ``auto_evict`` is on.
        """
        return self._evict_expired(_epoch(now))

    # ---------------------------------------------------------------- features

    def _features(self, text: str, tokens: list[str], text_hash: str, hash_key: str) -> _Features:
        k = self.shingle_size
        if len(tokens) <= k:
            shingles = {" ".join(tokens)}
        else:
            shingles = {" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1)}
        mh = MinHash(
            num_perm=self.num_perm,
            seed=self.seed,
            permutations=self._permutations,
            scheme="affine32",
        )
        mh.update_batch([s.encode("utf-8") for s in shingles])
        signature = (mh.hashvalues & 0xFFFF).astype(np.uint16)
        spans, fingerprints, weights = self._sentence_features(text)
        return _Features(
            text_hash, hash_key, len(shingles), signature, spans, fingerprints, weights
        )

    def _sentence_features(self, text: str) -> tuple[list[tuple[int, int]], list[str], list[int]]:
        # (spans, fingerprints, normalised words per sentence): all a replay needs recomputed.
        spans = split_sentences(text, self.nlp)
        fingerprints, weights = [], []
        for s, e in spans:
            words = normalise_tokens(text[s:e])
            fingerprints.append(_digest(" ".join(words).encode("utf-8")))
            weights.append(len(words))
        return spans, fingerprints, weights

    def _band_keys(self, signature: np.ndarray) -> list[str]:
        r = self.rows
        return [
            "b:" + _digest(i.to_bytes(2, "little") + signature[i * r : (i + 1) * r].tobytes())
            for i in range(self.bands)
        ]

    # ---------------------------------------------------------------- matching

    def _matches(self, f: _Features, t: int) -> list[Match]:
        votes: Counter[str] = Counter()
        for key in self._band_keys(f.signature):
            for article_id in self.store.get(key, ()):
                votes[article_id] += 1
        for fp in set(f.fingerprints):
            holder = self.store.get("s:" + fp)
            if holder is not None:
                votes[holder] += 1
        matches = []
        total = sum(f.weights) or 1
        for article_id, _ in votes.most_common(self.max_candidates):
            rec = self._live_unique(article_id, t)
            if rec is None:
                continue
            other = np.frombuffer(_unb64(rec["m"]), dtype=np.uint16)
            jaccard = float(np.count_nonzero(other == f.signature)) / self.num_perm
            if f.shingles >= self.min_containment_shingles:
                containment = min(
                    1.0, jaccard * (f.shingles + rec["n"]) / ((1 + jaccard) * f.shingles)
                )
            else:
                containment = 0.0  # too few shingles for the estimate to mean anything
            held = set(_split_fps(rec["f"]))
            shared = sum(w for fp, w in zip(f.fingerprints, f.weights, strict=True) if fp in held)
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

    # ---------------------------------------------------------------- store: reads

    def _check_params(self) -> None:
        if self._checked:
            return
        stored = self.store.get("m:params")
        if stored is None:
            self.store["m:params"] = dict(self._params)
        elif stored != self._params:
            raise ValueError(f"dedup store was built with {stored}, not {self._params}")
        self._checked = True

    def _live(self, article_id: str, t: int) -> dict[str, Any] | None:
        rec: dict[str, Any] | None = self.store.get("a:" + article_id)
        if rec is None or rec["t"] < t - self.window:
            return None
        return rec

    def _live_unique(self, article_id: str, t: int) -> dict[str, Any] | None:
        rec = self._live(article_id, t)
        return rec if rec is not None and "d" not in rec else None

    def _sentences(
        self,
        article: CleanArticle,
        spans: Sequence[tuple[int, int]],
        fingerprints: Sequence[str],
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
        for i, ((s, e), fp) in enumerate(zip(spans, fingerprints, strict=True)):
            if recorded is not None and fp in recorded:
                seen = recorded[fp]
            else:
                holder = self.store.get("s:" + fp)
                seen = (
                    holder is not None
                    and holder != article.article_id
                    and self._live_unique(holder, t) is not None
                )
            out.append(Sentence(index=i, start=s, end=e, text=text[s:e], seen=seen, fingerprint=fp))
        return out

    @staticmethod
    def _recorded_seen(rec: dict[str, Any]) -> dict[str, bool] | None:
        # "e" is a hex bit mask over the distinct fingerprints of "f", in their order. None for a
        # record written before "e" existed: the caller falls back to the index.
        if "e" not in rec:
            return None
        mask = int(rec["e"], 16)
        return {fp: bool(mask >> i & 1) for i, fp in enumerate(_split_fps(rec["f"]))}

    # ---------------------------------------------------------------- store: writes

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
        existing = self.store.get("a:" + article.article_id)
        if existing is None or "d" in existing:
            # Remembered so that a replay repeats this verdict; never over a unique record, which
            # the index still needs. The slot first, as in _index: a record is never left unevictable.
            self._add_to_slot(article.article_id, t)
            self.store["a:" + article.article_id] = {
                "t": t,
                "h": hash_key,
                "d": duplicate_of,
                "k": kind,
                "s": similarity,
            }
        return self._notice(article, duplicate_of, kind, similarity, now)

    def _notice(
        self, article: CleanArticle, duplicate_of: str, kind: Kind, similarity: float, now: datetime
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

    def _index(self, article_id: str, f: _Features, seen: set[str], t: int) -> None:
        store = self.store
        distinct = list(dict.fromkeys(f.fingerprints))
        # The seen flags of this first visit, one bit per distinct fingerprint, so that a replay
        # can give them again: "0" when nothing was seen, a few hex digits otherwise. (One
        # sentence repeated inside the article gets one flag: both copies were looked up in the
        # same index, before the article was added to it.)
        mask = sum(1 << i for i, fp in enumerate(distinct) if fp in seen)
        store["h:" + f.hash_key] = article_id
        for key in self._band_keys(f.signature):
            bucket = store.get(key, [])
            if article_id not in bucket:
                store[key] = [
                    *bucket,
                    article_id,
                ]  # a new list: a faust Table records assignments only
        for fp in dict.fromkeys(f.fingerprints):
            holder = store.get("s:" + fp)
            if holder is None or self._live_unique(holder, t) is None:
                store["s:" + fp] = article_id
        self._add_to_slot(article_id, t)
        # The record last: it is what marks the article as indexed, so a worker that dies part-way
        # leaves none and the replay indexes the article again, whole (every write above is
        # idempotent), instead of republishing it over a half-built index.
        store["a:" + article_id] = {
            "t": t,
            "h": f.hash_key,
            "n": f.shingles,
            "m": _b64(f.signature.tobytes()),
            "f": "".join(distinct),
            "e": format(mask, "x"),
        }

    def _add_to_slot(self, article_id: str, t: int) -> None:
        store = self.store
        slot = t // self.slot
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

    def _unindex(self, article_id: str, rec: dict[str, Any]) -> None:
        store = self.store
        if "d" in rec:
            store.pop("a:" + article_id, None)
            return
        if store.get("h:" + rec["h"]) == article_id:
            del store["h:" + rec["h"]]
        signature = np.frombuffer(_unb64(rec["m"]), dtype=np.uint16)
        for key in self._band_keys(signature):
            bucket = store.get(key)
            if bucket is None or article_id not in bucket:
                continue
            rest = [a for a in bucket if a != article_id]
            if rest:
                store[key] = rest
            else:
                del store[key]
        for fp in _split_fps(rec["f"]):
            if store.get("s:" + fp) == article_id:
                del store["s:" + fp]
        # The record last, as in _index: a worker dying part-way leaves it, and the replay redoes
        # the removal.
        store.pop("a:" + article_id, None)

    def _evict_expired(self, t: int) -> int:
        store = self.store
        cursor = store.get("m:cursor")
        if cursor is None:
            return 0
        cutoff = t - self.window
        last = cutoff // self.slot  # slots before this one lie wholly outside the window
        if cursor >= last:
            return 0
        removed = 0
        for slot in range(cursor, last):
            pages = store.pop(f"t:{slot}", 0)
            for n in range(pages):
                for article_id in store.pop(f"t:{slot}:{n}", []):
                    rec = store.get("a:" + article_id)
                    # A later re-submission may have refreshed the record: only expired ones go.
                    if rec is not None and rec["t"] < cutoff:
                        self._unindex(article_id, rec)
                        removed += 1
        store["m:cursor"] = last
        return removed


def _split_fps(packed: str) -> list[str]:
    width = len(_b64(bytes(_FP_BYTES)))
    return [packed[i : i + width] for i in range(0, len(packed), width)]
