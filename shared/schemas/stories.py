"""Story message models: an article with the story it tells, and the story as it grows.

As the stories service publishes them: ``StoriedArticle`` (the enriched article and its story,
what the alerts stage reads) and ``StoryRecord`` (a story opened or joined, keyed by story).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.schemas.articles import EnrichedArticle, Message

StoryStatus = Literal["new", "joined"]


class StoriedArticle(EnrichedArticle):
    """An enriched article and the story it joined (stories stage output)."""

    # uuid5 of the story's first article: stable across replays. None only on an enriched
    # article read as storied (a message no stories stage saw).
    story_id: str | None = None
    story_size: int | None = None  # articles in the story so far, this one included


class StoryRecord(Message):
    """A story as one article left it: opened by it (``new``) or grown by it (``joined``).

    Keyed by ``story_id``: a story's records stay in order on one partition, and its latest record
    is the story as it stands.
    """

    story_id: str
    status: StoryStatus
    article_id: str
    title: str | None = None  # the story's representative title: its first article's
    article_title: str | None = None  # the title of the article that gave this record
    size: int  # articles in the story so far, this one included
    sources: list[str] = Field(
        default_factory=list
    )  # distinct sources, first seen first (at most 8)
    countries: list[str] = Field(
        default_factory=list
    )  # ISO codes, most mentioned first (at most 8)
    first_seen: datetime  # article time (published_at, else ingested_at) of its first article
    last_seen: datetime
    similarity: float | None = None  # how close the joining article was to the story (None: new)
