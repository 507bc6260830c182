"""Message models for the newswatch topics, raw article to alert.

raw → clean → unique/duplicate → enriched → (storied, ``shared.schemas.stories``) → alert, plus
dead letters.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.schemas.enums import (
    DIRECTIONS,
    NO_MOVEMENT,
    Action,
    Direction,
    Modality,
    NoMovement,
    PlaceKind,
    Severity,
)


class Message(BaseModel):
    """Base of every topic payload: frozen, tolerant of unknown fields, versioned."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[1] = 1

    def to_bytes(self) -> bytes:
        """Serialise as the UTF-8 JSON that goes on the wire."""
        return self.model_dump_json().encode("utf-8")


class RawArticle(Message):
    """What analysts drop on the input topic: ``text`` (scraped plain text) or ``html`` is required.

    Plain UTF-8 text on the input topic is read as ``RawArticle(text=...)``.
    """

    id: str | None = Field(default=None, max_length=200)
    url: str | None = None
    title: str | None = None
    source: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    text: str | None = None
    html: str | None = None

    @model_validator(mode="after")
    def _needs_a_body(self) -> RawArticle:
        if not (self.text or self.html):
            raise ValueError("a raw article needs 'text' or 'html'")
        return self


class CleanArticle(Message):
    """One story, boilerplate stripped and normalised, with its metadata (clean stage output)."""

    article_id: str
    parent_id: str | None = None  # the submitted input's id when this story was split from a dump
    part: int | None = None  # 1-based position inside that dump
    url: str | None = None
    source: str | None = None  # the site's domain, e.g. "reuters.com"
    title: str | None = None
    authors: list[str] = Field(default_factory=list)
    published_at: datetime | None = None
    language: str | None = None  # ISO 639-1
    text: str  # paragraphs separated by one blank line
    word_count: int = 0
    ingested_at: datetime


class Sentence(Message):
    """A sentence of the clean text, with whether any earlier article already held it."""

    index: int
    start: int  # character offsets into the article's ``text``
    end: int
    text: str
    seen: bool = (
        False  # True: an earlier article held this sentence (normalised), so it is not news
    )
    fingerprint: str = ""


class UniqueArticle(CleanArticle):
    """A clean article that dedup found to be new, split into sentences marked new or seen."""

    content_hash: str = ""
    sentences: list[Sentence] = Field(default_factory=list)


class DuplicateNotice(Message):
    """An article dedup dropped, and the one it repeats."""

    article_id: str
    duplicate_of: str
    kind: Literal["exact", "near", "contained"]
    similarity: float = Field(ge=0.0, le=1.0)
    title: str | None = None
    url: str | None = None
    source: str | None = None
    detected_at: datetime


class Entity(Message):
    """A named or domain entity: character offsets into the article text and its sentence index."""

    text: str
    # spaCy label (GPE, ORG, PERSON, …) or a domain label (MILITARY_UNIT, AIRCRAFT, WEAPON,
    # VESSEL, VEHICLE, PERSONNEL)
    label: str
    start: int
    end: int
    sentence: int
    canonical: str | None = None  # normalised name, e.g. "Il-62" for "Ilyushin IL-62"
    # Places, peoples and seats of government (GPE, LOC, NORP, FAC): the country they belong to,
    # ISO 3166-1 alpha-2 ("Caracas", "Venezuelan", "Venezuela" -> "VE"). None when the name is
    # unknown or ambiguous in its article: never a guess presented as fact.
    country: str | None = None
    # For places: what kind of place the name is, and where it is when the gazetteer knows.
    place_kind: PlaceKind | None = None
    latitude: float | None = None
    longitude: float | None = None
    # Domain entities: the class of the thing named ("fighter jets" -> "fighter aircraft",
    # "T-72s" -> "tank", "2nd Battalion" -> "battalion").
    category: str | None = None
    # PERSONNEL (and plural domain mentions where stated): how many, as a number
    # ("about 100 soldiers" -> 100, "two battalions" -> 2).
    count: int | None = None


class EnrichedArticle(UniqueArticle):
    """A unique article with its entities (entities stage output)."""

    entities: list[Entity] = Field(default_factory=list)
    # Set when the text is longer than the stage reads (NEWS_ENTITIES_MAX_CHARS): no entity was
    # looked for from this character offset on. None: the whole text was read.
    entities_truncated_at: int | None = None
    # The title's entities, found with the body's (one article's places resolve together, so a
    # headline's "Israeli" or "Poland" gets its country): offsets into ``title``, ``sentence`` -1.
    # None: the stage that wrote the message did not read titles (the alerts stage then runs the
    # NER on the title itself); [] a title without entities, or no title.
    title_entities: list[Entity] | None = None


class FrameParty(BaseModel):
    """Who or where in a frame: the words of the sentence and, when the entities stage knows it, the country (ISO 3166-1 alpha-2)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    text: str
    country: str | None = None


class Frame(BaseModel):
    """What a matched sentence says happened: who moved, how, where, how many, with what, and how it was said.

    The same rule, actor, place and action identify one movement (one event) across articles.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    # the force's owner ("Russian troops", "Russia sent ..."): RU
    actor: FrameParty | None = None
    action: Action | None = None
    # where to, where at, or where from (a withdrawal's place is the one left)
    place: FrameParty | None = None
    count: int | None = None  # personnel, when stated ("about 100 soldiers" -> 100)
    equipment: list[str] = Field(default_factory=list)  # aircraft, vessels, weapons, vehicles named
    # how it was said (``Modality``: fact, plan, offer, demand, denial)
    modality: Modality = "fact"
    trigger: str | None = None  # the movement word as written ("arrived", "withdrawal")
    force: str | None = None  # the personnel or unit word as written ("troops")

    @property
    def direction(self) -> Direction | NoMovement:
        """The movement's direction (``DIRECTIONS``): "in", "out", "mobilise", or ``NO_MOVEMENT``."""
        return DIRECTIONS[self.action] if self.action else NO_MOVEMENT


class Alert(Message):
    """A rule that fired on one sentence of one article (or its title), with the evidence to judge it by."""

    alert_id: str  # stable: rule, article and sentence, so a replayed message repeats the same id
    rule_id: str
    rule_name: str = ""
    severity: Severity | None = None
    article_id: str
    # -1: the article's title; entities of a title alert have offsets into the title, not the text
    sentence_index: int
    evidence: str
    entities: list[Entity] = Field(default_factory=list)
    # the first movement of the sentence that fired; every one of them in ``frames``
    frame: Frame | None = None
    frames: list[Frame] = Field(default_factory=list)
    title: str | None = None
    url: str | None = None
    source: str | None = None
    language: str | None = None
    published_at: datetime | None = None
    # when the article entered the pipeline (its clean stage): the events' clock when it has no
    # published_at, the same on a replay (None on alerts made before this field)
    ingested_at: datetime | None = None
    fired_at: datetime
    # the story the article tells (services/stories); None on alerts of articles no story stage saw
    story_id: str | None = None
    story_size: int | None = None

    @property
    def bucket(self) -> str:
        """The alert's record key: its rule and the direction of its movement ("troop_movement|in").

        Every event an alert may join is in its bucket (services/alerts/events), so keyed by it
        the alert topic is the events step's repartition: one partition, one worker, owns a bucket.
        """
        return f"{self.rule_id}|{self.frame.direction if self.frame is not None else NO_MOVEMENT}"


class DeadLetter(Message):
    """Input a service could not use: why, where it came from, and the original bytes."""

    service: str
    reason: str  # snake_case, bounded: used as a metric label
    error_type: str
    error: str
    source_topic: str | None = None
    partition: int | None = None
    offset: int | None = None
    key_b64: str | None = None
    original_b64: str  # the message value exactly as consumed
    failed_at: datetime

    @property
    def original(self) -> bytes:
        """The original message bytes."""
        return base64.b64decode(self.original_b64)
