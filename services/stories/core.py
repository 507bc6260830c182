"""stories core: an enriched article and its embedding in, the story it joins out (a ``StoryRecord``).

Online, single pass, in arrival order: an article joins the open story it is closest to when the
similarity reaches the threshold, else it opens a story. Similarity is the cosine of the
article's title-and-lead embedding to the story's centroid, plus a bonus for the names (people,
organisations, places) the story already holds. A story is open while an article has joined it
within the window, in article time (published_at, else ingested_at), never the wall clock, so a
replay and ``newswatch process`` decide alike.

Pure: the store is any ``MutableMapping[str, Any]`` (a faust Table backed by its changelog in the
worker, a dict in tests). Its layout, JSON values only:

- ``s:<story id>``: one open story: its centroid (float16, base64), size, first and last seen
  (epoch seconds), representative title, sources (at most 8), countries and names with counts
  (at most 8 and 24, the most frequent kept);
- ``a:<article id>``: the story an article joined and when, so a redelivered article gets the
  same story and counts once;
- ``w``: the watermark, the latest article time seen.

An in-memory index (a matrix of the open centroids) mirrors the ``s:`` keys; it is rebuilt from
the store when the clusterer starts, so a restarted worker decides as the old one would have.
"""

from __future__ import annotations

import base64
import uuid
from collections import Counter
from collections.abc import Iterable, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from shared.schemas import EnrichedArticle, Entity, StoryRecord

# Fixed namespace: a story id is uuid5 of its first article's id, identical on every replay.
STORY_NAMESPACE = uuid.UUID("6f1c2a9e-3b7d-4e58-a1c4-92d0b7e5f318")
STORY, ARTICLE, WATERMARK = "s:", "a:", "w"
MAX_SOURCES, MAX_COUNTRIES, MAX_NAMES = 8, 8, 24
# The labels whose names say which story an article tells; numbers and dates do not.
NAME_LABELS = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"}
    | {"MILITARY_UNIT", "AIRCRAFT", "VESSEL", "WEAPON", "VEHICLE"}
)
LEAD_SENTENCES = 2


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
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._last = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def matrix(self) -> np.ndarray:
        return self._matrix[: len(self.ids)]

    @property
    def last(self) -> np.ndarray:
        return self._last[: len(self.ids)]

    def put(self, story_id: str, centroid: np.ndarray, last: int, names: set[str]) -> None:
        row = self.rows.get(story_id)
        if row is None:
            row = len(self.ids)
            if row == len(self._matrix):  # full: double the room
                grown = np.zeros((max(64, 2 * row), centroid.shape[0]), dtype=np.float32)
                if row:
                    grown[:row] = self._matrix[:row]
                self._matrix, self._last = grown, np.resize(self._last, len(grown))
            self.rows[story_id] = row
            self.ids.append(story_id)
            self.names.append(names)
        self._matrix[row], self._last[row], self.names[row] = centroid, last, names

    def drop(self, story_ids: set[str]) -> None:
        keep = [i for i, s in enumerate(self.ids) if s not in story_ids]
        self._matrix, self._last = self._matrix[keep], self._last[keep]
        self.ids = [self.ids[i] for i in keep]
        self.names = [self.names[i] for i in keep]
        self.rows = {story_id: row for row, story_id in enumerate(self.ids)}


class StoryClusterer:
    """Assigns each article to a story over one store (see the module's docstring for the layout)."""

    def __init__(
        self,
        store: MutableMapping[str, Any],
        *,
        window: timedelta,
        threshold: float,
        entity_weight: float,
        evict_every: int = 500,
    ) -> None:
        """Bind to ``store``; the parameters come from the service's settings."""
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        self.store = store
        self.window = int(window.total_seconds())
        self.threshold = threshold
        self.entity_weight = entity_weight
        self.evict_every = evict_every
        self._since_sweep = 0
        self._index: _Index | None = None
        self.evicted = 0
        """How many stories the latest ``assign`` evicted."""

    @property
    def index(self) -> _Index:
        """The in-memory mirror of the open stories, read from the store on first use."""
        if self._index is None:
            self._index = _Index()
            for key, story in list(self.store.items()):
                if key.startswith(STORY):
                    names = {name for name, _ in story["e"]}
                    self._index.put(key[len(STORY) :], _unpack(story["c"]), story["l"], names)
        return self._index

    def similarity(self, vector: np.ndarray, names: set[str], t: int) -> np.ndarray:
        """Each open story's similarity to an article at time ``t`` (cosine plus the name bonus); -inf for a story closed by then."""
        index = self.index
        if not len(index):
            return np.zeros(0, dtype=np.float32)
        scores = np.where(index.last >= t - self.window, index.matrix @ vector, -np.inf)
        if names and self.entity_weight:
            # The bonus is at most entity_weight: only stories within it of the threshold can
            # reach it, so only theirs are counted.
            for row in np.flatnonzero(scores >= self.threshold - self.entity_weight):
                shared = len(names & index.names[row])
                scores[row] += self.entity_weight * shared / len(names)
        return scores

    def assign(self, article: EnrichedArticle, vector: np.ndarray) -> StoryRecord:
        """The story ``article`` (embedded as ``vector``, unit length) joins or opens, as its record.

        Idempotent: an article already assigned (within the window) gets its story again and
        changes nothing.
        """
        self.evicted = 0
        t = article_time(article)
        w = max(int(self.store.get(WATERMARK, t)), t)
        self.store[WATERMARK] = w
        seen = self.store.get(ARTICLE + article.article_id)
        if seen is not None and STORY + seen[0] in self.store:
            return self._record(seen[0], self.store[STORY + seen[0]], article, seen[2], seen[3])
        self._sweep(w)
        names = names_of(article)
        scores = self.similarity(vector, names, t)
        best = int(scores.argmax()) if len(scores) else None
        if best is not None and scores[best] >= self.threshold:
            story_id = self.index.ids[best]
            story = self._join(self.store[STORY + story_id], article, vector, names, t)
            status, similarity = "joined", round(float(scores[best]), 4)
        else:
            story_id = str(uuid.uuid5(STORY_NAMESPACE, article.article_id))
            story = self._open(article, vector, names, t)
            status, similarity = "new", None
        self.store[STORY + story_id] = story
        self.index.put(story_id, _unpack(story["c"]), story["l"], {n for n, _ in story["e"]})
        self.store[ARTICLE + article.article_id] = [story_id, t, status, similarity]
        return self._record(story_id, story, article, status, similarity)

    def _open(
        self, article: EnrichedArticle, vector: np.ndarray, names: set[str], t: int
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
        }

    def _join(
        self,
        story: dict[str, Any],
        article: EnrichedArticle,
        vector: np.ndarray,
        names: set[str],
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
        return {
            "c": _pack(centroid),
            "n": n + 1,
            "f": min(int(story["f"]), t),
            "l": max(int(story["l"]), t),
            "t": story["t"],
            "src": sources,
            "cc": _top(countries, MAX_COUNTRIES),
            "e": _top(held, MAX_NAMES),
        }

    def _sweep(self, w: int) -> None:
        """Every ``evict_every`` articles: drop the stories and article keys older than the window."""
        self._since_sweep += 1
        if self._since_sweep < self.evict_every:
            return
        self._since_sweep = 0
        horizon = w - self.window
        gone = {
            s for s, last in zip(self.index.ids, self.index.last, strict=True) if last < horizon
        }
        for story_id in gone:
            self.store.pop(STORY + story_id, None)
        self.index.drop(gone)
        self.evicted = len(gone)
        for key in [
            k for k, v in list(self.store.items()) if k.startswith(ARTICLE) and v[1] < horizon
        ]:
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
