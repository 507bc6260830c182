"""Event message models: one alert folded into the event it reports.

As the alerts service's events step publishes it: ``EventAlert`` (new, update) and
``EventMention``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from shared.schemas.articles import Frame, Message
from shared.schemas.enums import Severity

# What an update added to its event (see services/alerts/README.md, "Events (core)").
Fact = Literal["actor", "place", "count", "equipment", "modality"]
Status = Literal["new", "update", "mention"]


class EventAlert(Message):
    """One alert as a report of an event: the first report (``new``), one that adds a fact (``update``) or a restatement (``mention``).

    The event is one movement (same rule, actor, place and direction of movement within the
    window); ``frame`` is what all its reports so far say together, ``alert_frame`` what this
    one said. Every alert gives exactly one ``EventAlert``; a replayed alert gives the same one.
    """

    event_id: str  # uuid5 of the event's key and its first report: stable across replays
    status: Status
    # what this report added to the event (an update's facts; empty for new and mention)
    added: list[Fact] = Field(default_factory=list)
    # the event's key as text: rule, direction, actor, place ("troop_movement|in|RU|VE"); "?" for
    # a part not known yet
    event_key: str
    rule_id: str
    rule_name: str = ""
    severity: Severity | None = None
    frame: Frame | None = None  # the event's merged frame, this report included
    first_seen: datetime  # article time (published_at, else ingested_at, else when the alert fired) of its reports
    last_seen: datetime
    reports: int  # alerts folded into the event so far, this one included
    mentions: int  # of which mentions
    articles: int  # distinct articles among them
    sources: list[str] = Field(default_factory=list)  # distinct source domains, first seen first
    # the report that gave this record
    alert_id: str
    article_id: str
    sentence_index: int
    evidence: str
    alert_frame: Frame | None = None
    title: str | None = None
    url: str | None = None
    source: str | None = None
    published_at: datetime | None = None
    # the story of the event's first report, and of this one (services/stories)
    story_id: str | None = None
    alert_story_id: str | None = None
    story_size: int | None = None  # articles in this report's story when it was read


class EventMention(EventAlert):
    """A report that restates its event and adds no fact: counted on the event, published on a topic of its own.

    The same record as ``EventAlert``; a model of its own so mentions go to
    ``news.event-mention.v1`` and subscribers of ``news.event-alert.v1`` get only what is news.
    """

    status: Literal["mention"] = "mention"


def event_record(data: dict[str, Any]) -> EventAlert:
    """The record a stored or received event JSON object stands for: an ``EventMention`` when its status says so."""
    model = EventMention if data.get("status") == "mention" else EventAlert
    return model.model_validate(data)
