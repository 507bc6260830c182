"""stories core: an enriched article and its embedding in, the story it joins out (a ``StoryRecord``).

Online, single pass, in arrival order: an article joins the open story most likely to be its own
when that likelihood reaches the threshold, else it opens a story. The likelihood is a logistic
model (weights learned offline, ``evaluation/stories/fit.py``) of three signals of the article's
title and lead against each story: the cosine of their embedding to the story's centroid, the
cosine of their TF-IDF vector to the story's (hashed terms, document frequencies counted online
over the articles the store holds), and the share of the article's names (people, organisations, places) the story
holds. A brief article (a headline with little or no body) has weights of its own: on headlines
the embedding says most, on articles the shared rare words do. A story is open while an article
has joined it within the window, in article time (published_at, else ingested_at), never the wall
clock, so a replay and ``newswatch process`` decide alike. A story of one article has a shorter
window of its own: takeover battles and trials run for weeks with days between reports, while
most articles of a dense feed never gain a second and need not be held as long.

Pure: the store is any ``MutableMapping[str, Any]`` (a faust Table backed by its changelog in the
worker, a dict in tests). Its layout, JSON values only:

- ``s:<story id>``: one open story: its centroid (float16, base64), size, first and last seen
  (epoch seconds), representative title, sources (at most 8), countries and names with counts
  (at most 8 and 24, the most frequent kept), and its terms: the summed TF-IDF weights of its
  articles' hashed terms, the heaviest 32 kept (``x``: uint32 buckets then float16 weights,
  base64; stories stored before it have none and score 0 on terms);
- ``a:<article id>``: the story an article joined and when, so a redelivered article gets the
  same story and counts once, and the hash buckets of its terms (3 bytes each, base64): the
  terms' document frequencies are counted over the articles held, so they age with the window
  and an article writes one record for them, not one per term;
- ``w``: the watermark, the latest article time seen; ``wd``: the latest time a dated article
  gave (an undated article read long after it is read as of it: a replayed story stays one).

An in-memory index (a matrix of the open centroids, the stories' terms and names, the document
frequencies as an array) mirrors the store; it is rebuilt from it when the clusterer starts, so a
restarted worker decides as the old one would have.
"""

from __future__ import annotations

import base64
import math
import uuid
from collections import Counter
from collections.abc import Iterable, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import HashingVectorizer

from shared.schemas import EnrichedArticle, Entity, StoryRecord

# Fixed namespace: a story id is uuid5 of its first article's id, identical on every replay.
STORY_NAMESPACE = uuid.UUID("6f1c2a9e-3b7d-4e58-a1c4-92d0b7e5f318")
STORY, ARTICLE, WATERMARK, DATED = "s:", "a:", "w", "wd"
# The clocks are stored when they move by this much (seconds), not with every article: each write
# is a changelog record, and a clock behind by under a minute changes nothing a window of days
# decides (each article's decisions read its own time too).
CLOCK_STEP = 60
# Written by stores before 2026-12-07: a key per term's bucket and the count of articles. Read
# no more (the article keys carry the buckets) and deleted when a store is loaded.
LEGACY_DF, LEGACY_DOCS = "d:", "N"
MAX_SOURCES, MAX_COUNTRIES, MAX_NAMES, MAX_TERMS = 8, 8, 24, 32
# Terms hash to 2**18 buckets: few collisions among a news vocabulary, and a bucket fits in the
# 3 bytes an article key keeps of it.
BUCKETS = 2**18
_HASHER = HashingVectorizer(
    n_features=BUCKETS, alternate_sign=False, norm=None, stop_words="english", dtype=np.float32
)
# Under this many words past the title an article is brief (a headline): its own weights.
BRIEF_WORDS = 25
# The labels whose names say which story an article tells; numbers and dates do not.
NAME_LABELS = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"}
    | {"MILITARY_UNIT", "AIRCRAFT", "VESSEL", "WEAPON", "VEHICLE"}
)
LEAD_SENTENCES = 2
# Open stories whose terms and names are scored for an article: the closest by embedding.
CANDIDATES = 32


def story_text(article: EnrichedArticle) -> str:
    """What is embedded: the title and the lead (the first sentences), as one text."""
    lead = [s.text for s in article.sentences[:LEAD_SENTENCES]] or [article.text[:400]]
    return " ".join(part for part in [article.title or "", *lead] if part.strip())


def names_of(article: EnrichedArticle) -> set[str]:
    """The names of the title and the lead, case-folded (their canonical form where there is one)."""
    lead = {s.index for s in article.sentences[:LEAD_SENTENCES]}
    entities: Iterable[Entity] = [
        *(article.title_entities or []),
        *(e for e in article.entities if e.sentence in lead),
    ]
    return {
        " ".join((e.canonical or e.text).casefold().removeprefix("the ").split())
        for e in entities
        if e.label in NAME_LABELS
    }


def is_brief(article: EnrichedArticle) -> bool:
    """Whether the article is little more than its headline (a feed item, a wire flash)."""
    title = (article.title or "").strip()
    body = article.text.strip().removeprefix(title) if title else article.text
    return len(body.split()) < BRIEF_WORDS


def term_counts(text: str) -> tuple[np.ndarray, np.ndarray]:
    """The hashed terms of ``text`` (English stop words out) and their counts, as two arrays."""
    row = _HASHER.transform([text])
    return row.indices.astype(np.int64), row.data.astype(np.float32)


def article_time(article: EnrichedArticle) -> int:
    """When the article says it was published, else when it was ingested (epoch seconds, naive is UTC)."""
    when = article.published_at or article.ingested_at
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


def _pack(vector: np.ndarray) -> str:
    return base64.b64encode(vector.astype("<f2").tobytes()).decode("ascii")


def _unpack(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f2").astype(np.float32)


def _pack_terms(terms: dict[int, float]) -> str:
    buckets = np.fromiter(terms.keys(), dtype="<u4", count=len(terms))
    weights = np.fromiter(terms.values(), dtype=np.float32, count=len(terms)).astype("<f2")
    return base64.b64encode(buckets.tobytes() + weights.tobytes()).decode("ascii")


def _unpack_terms(text: str | None) -> dict[int, float]:
    raw = base64.b64decode(text or "")
    n = len(raw) // 6
    buckets = np.frombuffer(raw[: 4 * n], dtype="<u4")
    weights = np.frombuffer(raw[4 * n :], dtype="<f2").astype(np.float32)
    return dict(zip(buckets.tolist(), weights.tolist(), strict=True))


def _pack_buckets(buckets: np.ndarray) -> str:
    raw = buckets.astype("<u4").view(np.uint8).reshape(-1, 4)[:, :3]
    return base64.b64encode(raw.tobytes()).decode("ascii")


def _unpack_buckets(text: str) -> np.ndarray:
    raw = np.frombuffer(base64.b64decode(text), dtype=np.uint8).reshape(-1, 3)
    full = np.zeros((len(raw), 4), dtype=np.uint8)
    full[:, :3] = raw
    return full.view("<u4").ravel().astype(np.int64)


def _buckets_of(entry: list[Any]) -> np.ndarray:
    """The term buckets an article key holds (none in keys written before they were kept)."""
    return _unpack_buckets(entry[4]) if len(entry) > 4 else np.zeros(0, dtype=np.int64)


def _terms_norm(terms: dict[int, float]) -> float:
    return math.sqrt(sum(w * w for w in terms.values())) or 1.0


def _top(counts: Counter[str], n: int) -> list[list[Any]]:
    return [
        [key, count] for key, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    ]


class _Index:
    """The open stories' centroids as the rows of one matrix, grown in place, and what scoring needs of each row.

    Updated row by row as articles join, so an article costs one matrix-vector product, never a
    rebuild of the matrix; rows leave only in the sweep.
    """

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.rows: dict[str, int] = {}
        self.names: list[set[str]] = []
        self.terms: list[tuple[dict[int, float], float]] = []
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._last = np.zeros(0, dtype=np.int64)
        self._size = np.zeros(0, dtype=np.int64)
        self.df = np.zeros(BUCKETS, dtype=np.int64)
        self.docs = 0

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def matrix(self) -> np.ndarray:
        return self._matrix[: len(self.ids)]

    @property
    def last(self) -> np.ndarray:
        return self._last[: len(self.ids)]

    @property
    def size(self) -> np.ndarray:
        return self._size[: len(self.ids)]

    def put(
        self,
        story_id: str,
        centroid: np.ndarray,
        last: int,
        size: int,
        names: set[str],
        terms: dict[int, float],
    ) -> None:
        row = self.rows.get(story_id)
        entry = (terms, _terms_norm(terms))
        if row is None:
            row = len(self.ids)
            if row == len(self._matrix):  # full: double the room
                grown = np.zeros((max(64, 2 * row), centroid.shape[0]), dtype=np.float32)
                if row:
                    grown[:row] = self._matrix[:row]
                self._matrix = grown
                self._last = np.resize(self._last, len(grown))
                self._size = np.resize(self._size, len(grown))
            self.rows[story_id] = row
            self.ids.append(story_id)
            self.names.append(names)
            self.terms.append(entry)
        self._matrix[row], self._last[row], self._size[row] = centroid, last, size
        self.names[row], self.terms[row] = names, entry

    def drop(self, story_ids: set[str]) -> None:
        keep = [i for i, s in enumerate(self.ids) if s not in story_ids]
        self._matrix, self._last = self._matrix[keep], self._last[keep]
        self._size = self._size[keep]
        self.ids = [self.ids[i] for i in keep]
        self.names = [self.names[i] for i in keep]
        self.terms = [self.terms[i] for i in keep]
        self.rows = {story_id: row for row, story_id in enumerate(self.ids)}


Weights = tuple[float, float, float, float]
"""A logistic model's intercept and its weights of the embedding cosine, the terms cosine and the
share of names."""


class StoryClusterer:
    """Assigns each article to a story over one store (see the module's docstring for the layout)."""

    def __init__(
        self,
        store: MutableMapping[str, Any],
        *,
        window: timedelta,
        threshold: float,
        weights: Weights,
        brief_weights: Weights,
        single_window: timedelta | None = None,
        evict_every: int = 500,
    ) -> None:
        """Bind to ``store``; the parameters come from the service's settings.

        ``window``: how long a story stays open after its latest article; ``single_window``: the
        same for a story of one article (``window`` when None), at most ``window``.
        """
        single_window = window if single_window is None else single_window
        if not timedelta(0) < single_window <= window:
            raise ValueError("windows must be positive, a single article's at most a story's")
        if not 0 < threshold < 1:
            raise ValueError("threshold is a probability: between 0 and 1")
        self.store = store
        self.window = int(window.total_seconds())
        self.single_window = int(single_window.total_seconds())
        self.threshold = threshold
        self.weights, self.brief_weights = weights, brief_weights
        self.evict_every = evict_every
        self._since_sweep = 0
        self._index: _Index | None = None
        self.evicted = 0
        """How many stories the latest ``assign`` evicted."""

    @property
    def index(self) -> _Index:
        """The in-memory mirror of the open stories and the term counts, read from the store on first use."""
        if self._index is None:
            self._index = _Index()
            for key in [k for k in self.store if k.startswith(LEGACY_DF) or k == LEGACY_DOCS]:
                del self.store[key]
            for key, value in list(self.store.items()):
                if key.startswith(STORY):
                    names = {name for name, _ in value["e"]}
                    terms = _unpack_terms(value.get("x"))
                    self._index.put(
                        key[len(STORY) :], _unpack(value["c"]), value["l"], value["n"], names, terms
                    )
                elif key.startswith(ARTICLE):
                    self._count(_buckets_of(value), +1)
        return self._index

    def _count(self, buckets: np.ndarray, sign: int) -> None:
        """Count an article's term buckets into (+1) or out of (-1) the document frequencies."""
        index = self.index
        index.docs += sign
        index.df[buckets] += sign

    def count_terms(self, article: EnrichedArticle) -> tuple[dict[int, float], np.ndarray]:
        """Count the article's terms into the document frequencies; its TF-IDF vector (unit length) and its buckets."""
        index = self.index
        buckets, counts = term_counts(story_text(article))
        self._count(buckets, +1)
        idf = np.log((index.docs + 1) / (index.df[buckets] + 1)) + 1
        weights = (1 + np.log(counts)) * idf
        weights /= max(float(np.linalg.norm(weights)), 1e-12)
        return dict(zip(buckets.tolist(), weights.tolist(), strict=True)), buckets

    def features(
        self, vector: np.ndarray, terms: dict[int, float], names: set[str], rows: np.ndarray
    ) -> np.ndarray:
        """The signals of an article against the open stories at ``rows``: one row each of the cosine of embeddings, the cosine of terms, the share of names."""
        index = self.index
        out = np.zeros((len(rows), 3), dtype=np.float32)
        if not len(rows):
            return out
        out[:, 0] = index.matrix[rows] @ vector
        for i, row in enumerate(rows.tolist()):
            held, norm = index.terms[row]
            out[i, 1] = sum(w * held.get(b, 0.0) for b, w in terms.items()) / norm
            if names:
                out[i, 2] = len(names & index.names[row]) / len(names)
        return out

    def open_at(self, t: int) -> np.ndarray:
        """Which rows of the index hold a story still open at article time ``t`` (a mask)."""
        index = self.index
        window = np.where(index.size > 1, self.window, self.single_window)
        return index.last >= t - window

    def likelihood(
        self, vector: np.ndarray, terms: dict[int, float], names: set[str], t: int, brief: bool
    ) -> np.ndarray:
        """Each open story's likelihood of being the article's (the logistic model at time ``t``); 0 for a story closed by then."""
        index = self.index
        scores = np.zeros(len(index), dtype=np.float32)
        if not len(index):
            return scores
        bias, w_cos, w_terms, w_names = self.brief_weights if brief else self.weights
        logit = np.full(len(index), -np.inf, dtype=np.float32)
        open_ = self.open_at(t)
        logit[open_] = bias + w_cos * (index.matrix[open_] @ vector)
        # Terms and names add at most their positive weights (both signals are within [0, 1]):
        # only stories within that reach of the threshold can reach it, so only theirs are scored,
        # and of those the CANDIDATES closest by embedding: the terms and names are scored in
        # Python per story, and a month's window holds thousands (1,137 open: 2.8 ms an article
        # scoring all of them, against 0.4 ms with 32).
        reach = max(w_terms, 0.0) + max(w_names, 0.0)
        rows = np.flatnonzero(logit + reach >= math.log(self.threshold / (1 - self.threshold)))
        if len(rows) > CANDIDATES:
            rows = rows[np.argpartition(logit[rows], -CANDIDATES)[-CANDIDATES:]]
        if len(rows):
            f = self.features(vector, terms, names, rows)
            logit[rows] = bias + f @ np.array([w_cos, w_terms, w_names], dtype=np.float32)
        with np.errstate(over="ignore"):
            return (1 / (1 + np.exp(-logit))).astype(np.float32)

    def assign(self, article: EnrichedArticle, vector: np.ndarray) -> StoryRecord:
        """The story ``article`` (embedded as ``vector``, unit length) joins or opens, as its record.

        Idempotent: an article already assigned (within the window) gets its story again and
        changes nothing.
        """
        self.evicted = 0
        t = article_time(article)
        dated = self.store.get(DATED)
        if article.published_at is None:
            if dated is not None and t - int(dated) > self.window:
                # Undated and read long after the latest dated article (a replay of older news):
                # read as of that article, not of today, which would close every story it could
                # join; a stream with no dates keeps reading time as its clock.
                t = int(dated)
        elif dated is None or t - int(dated) >= CLOCK_STEP:
            self.store[DATED] = t
        stored = self.store.get(WATERMARK)
        w = max(int(stored if stored is not None else t), t)
        if stored is None or w - int(stored) >= CLOCK_STEP:
            self.store[WATERMARK] = w
        seen = self.store.get(ARTICLE + article.article_id)
        if seen is not None and STORY + seen[0] in self.store:
            return self._record(seen[0], self.store[STORY + seen[0]], article, seen[2], seen[3])
        if seen is not None:  # its story closed: placed anew, its terms counted once
            self._count(_buckets_of(seen), -1)
            del self.store[ARTICLE + article.article_id]  # so the sweep cannot count it out again
        self._sweep(w)
        names = names_of(article)
        terms, buckets = self.count_terms(article)
        scores = self.likelihood(vector, terms, names, t, is_brief(article))
        best = self.choose(article, scores)
        if best is not None:
            story_id = self.index.ids[best]
            story = self._join(self.store[STORY + story_id], article, vector, names, terms, t)
            status, similarity = "joined", round(float(scores[best]), 4)
        else:
            story_id = str(uuid.uuid5(STORY_NAMESPACE, article.article_id))
            story = self._open(article, vector, names, terms, t)
            status, similarity = "new", None
        self.store[STORY + story_id] = story
        self.index.put(
            story_id,
            _unpack(story["c"]),
            story["l"],
            story["n"],
            {n for n, _ in story["e"]},
            _unpack_terms(story["x"]),
        )
        self.store[ARTICLE + article.article_id] = [
            story_id,
            t,
            status,
            similarity,
            _pack_buckets(buckets),
        ]
        return self._record(story_id, story, article, status, similarity)

    def choose(self, article: EnrichedArticle, scores: np.ndarray) -> int | None:
        """The row of the story the article joins, or None to open one: the likeliest, if it reaches the threshold."""
        best = int(scores.argmax()) if len(scores) else None
        return best if best is not None and scores[best] >= self.threshold else None

    def _open(
        self,
        article: EnrichedArticle,
        vector: np.ndarray,
        names: set[str],
        terms: dict[int, float],
        t: int,
    ) -> dict[str, Any]:
        countries = Counter(e.country for e in article.entities if e.country)
        return {
            "c": _pack(vector),
            "n": 1,
            "f": t,
            "l": t,
            "t": article.title or article.text[:120],
            "src": [article.source] if article.source else [],
            "cc": _top(countries, MAX_COUNTRIES),
            "e": _top(Counter(names), MAX_NAMES),
            "x": _pack_terms(_heaviest(terms)),
        }

    def _join(
        self,
        story: dict[str, Any],
        article: EnrichedArticle,
        vector: np.ndarray,
        names: set[str],
        terms: dict[int, float],
        t: int,
    ) -> dict[str, Any]:
        n = int(story["n"])
        centroid = _unpack(story["c"]) * n + vector
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        sources = list(story["src"])
        if article.source and article.source not in sources and len(sources) < MAX_SOURCES:
            sources.append(article.source)
        countries = Counter(dict(story["cc"])) + Counter(
            e.country for e in article.entities if e.country
        )
        held = Counter(dict(story["e"])) + Counter(names)
        summed = _unpack_terms(story.get("x"))
        for bucket, weight in terms.items():
            summed[bucket] = summed.get(bucket, 0.0) + weight
        return {
            "c": _pack(centroid),
            "n": n + 1,
            "f": min(int(story["f"]), t),
            "l": max(int(story["l"]), t),
            "t": story["t"],
            "src": sources,
            "cc": _top(countries, MAX_COUNTRIES),
            "e": _top(held, MAX_NAMES),
            "x": _pack_terms(_heaviest(summed)),
        }

    def _sweep(self, w: int) -> None:
        """Every ``evict_every`` articles: drop the stories closed by ``w`` and the article keys older than the window."""
        self._since_sweep += 1
        if self._since_sweep < self.evict_every:
            return
        self._since_sweep = 0
        horizon = w - self.window
        closed = ~self.open_at(w)
        gone = {s for s, shut in zip(self.index.ids, closed.tolist(), strict=True) if shut}
        for story_id in gone:
            self.store.pop(STORY + story_id, None)
        self.index.drop(gone)
        self.evicted = len(gone)
        for key, value in [
            (k, v) for k, v in list(self.store.items()) if k.startswith(ARTICLE) and v[1] < horizon
        ]:
            self._count(_buckets_of(value), -1)
            del self.store[key]

    def _record(
        self,
        story_id: str,
        story: dict[str, Any],
        article: EnrichedArticle,
        status: str,
        similarity: float | None,
    ) -> StoryRecord:
        return StoryRecord(
            story_id=story_id,
            status="new" if status == "new" else "joined",
            article_id=article.article_id,
            title=story["t"],
            article_title=article.title,
            size=int(story["n"]),
            sources=list(story["src"]),
            countries=[code for code, _ in story["cc"]],
            first_seen=datetime.fromtimestamp(int(story["f"]), UTC),
            last_seen=datetime.fromtimestamp(int(story["l"]), UTC),
            similarity=similarity,
        )


def _heaviest(terms: dict[int, float]) -> dict[int, float]:
    """The story's MAX_TERMS heaviest terms: what tells it apart, in bounded room."""
    return dict(sorted(terms.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_TERMS])
