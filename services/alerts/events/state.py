"""The events store's records, typed: buckets, events and replay records.

The store is any ``MutableMapping[str, Any]``: the alerts workers' changelogged faust Table, a
``dict`` in tests and ``newswatch process``. Its values are plain JSON (what a changelog gives
back), always *assigned*, never mutated in place, because a faust Table only records
``store[key] = value``. Layout::

    b:<bucket>     {"w": watermark, "e": {event_id: [actor, place, keep, story, town]}}: the
                   open events of one bucket (rule and direction) and the latest article time
                   it has seen (story: of the event's first report; town: its place inside the
                   country; each absent in older stores)
    e:<event_id>   {"key", "frame", "pk", "first", "last", "reports", "mentions", "articles",
                    "sources", "counts", "recent", "story"}: one event ("recent": [alert_id, article_id,
                    keep] of its reports still in the window)
    a:<alert_id>   the EventAlert the alert gave (JSON): what a replay of it gives again

Times are whole seconds since the epoch, in article time. The classes here read and write
exactly these values (same keys, same order), so stores written before them read on.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from shared.schemas import EventAlert, Frame, PlaceKind, event_record


class EventKey(NamedTuple):
    """What identifies an event: rule, direction of movement, actor and place (``party_key``).

    An alert that names no movement (direction ``NO_MOVEMENT``) is an event of its own: its
    actor is None and its place slot holds the alert's id.
    """

    rule: str
    direction: str
    actor: str | None
    place: str | None


class BucketEntry(NamedTuple):
    """One open event in its bucket's index: its actor and place, and until when it is kept."""

    actor: str | None
    place: str | None
    keep: int  # the bucket's watermark when the event last had a report
    story: str | None = None  # the story of its first report (services/stories)
    town: str | None = None  # its place inside the country, when known (``town_key``)


@dataclass(slots=True)
class Bucket:
    """The open events of one bucket (rule and direction) and its watermark."""

    watermark: int  # the latest article time the bucket has seen
    events: dict[str, BucketEntry]

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Bucket:
        """Read a stored ``b:`` value."""
        return cls(
            value["w"], {event_id: BucketEntry(*entry) for event_id, entry in value["e"].items()}
        )

    def to_json(self) -> dict[str, Any]:
        """The ``b:`` value to store."""
        return {
            "w": self.watermark,
            "e": {event_id: list(entry) for event_id, entry in self.events.items()},
        }


class RecentReport(NamedTuple):
    """A report of an event still in the window: its alert, its article, and the watermark it came at."""

    alert_id: str
    article_id: str
    keep: int


@dataclass(slots=True)
class EventState:
    """One event: its key, its merged frame and its counters."""

    key: EventKey
    frame: Frame | None  # what all its reports say together
    place_kind: PlaceKind | None  # of the frame's place ("pk"): a city refines a country
    first: int  # article time of its earliest and latest report
    last: int
    reports: int
    mentions: int
    articles: int
    sources: list[str]  # distinct source domains, first seen first
    counts: list[int]  # every count reported
    recent: list[RecentReport]
    story: str | None = None  # the story of its first report

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> EventState:
        """Read a stored ``e:`` value."""
        frame = value["frame"]
        return cls(
            key=EventKey(*value["key"]),
            frame=Frame.model_validate(frame) if frame is not None else None,
            place_kind=value["pk"],
            first=value["first"],
            last=value["last"],
            reports=value["reports"],
            mentions=value["mentions"],
            articles=value["articles"],
            sources=list(value["sources"]),
            counts=list(value["counts"]),
            recent=[RecentReport(*entry) for entry in value["recent"]],
            story=value.get("story"),
        )

    def to_json(self) -> dict[str, Any]:
        """The ``e:`` value to store."""
        return {
            "key": list(self.key),
            "frame": self.frame.model_dump(mode="json") if self.frame is not None else None,
            "pk": self.place_kind,
            "first": self.first,
            "last": self.last,
            "reports": self.reports,
            "mentions": self.mentions,
            "articles": self.articles,
            "sources": list(self.sources),
            "counts": list(self.counts),
            "recent": [list(entry) for entry in self.recent],
            "story": self.story,
        }


class EventStore:
    """Typed access to the events store: buckets, events and replay records under their keys."""

    def __init__(self, store: MutableMapping[str, Any]) -> None:
        """Wrap ``store`` (a faust Table or a dict of JSON values)."""
        self.store = store

    def bucket(self, bucket: str) -> Bucket | None:
        """The bucket's index, None when it has none."""
        value = self.store.get("b:" + bucket)
        return Bucket.from_json(value) if value else None

    def put_bucket(self, bucket: str, value: Bucket) -> None:
        """Store the bucket's index."""
        self.store["b:" + bucket] = value.to_json()

    def event(self, event_id: str) -> EventState:
        """The event (it must be stored)."""
        return EventState.from_json(self.store["e:" + event_id])

    def put_event(self, event_id: str, state: EventState) -> None:
        """Store the event."""
        self.store["e:" + event_id] = state.to_json()

    def pop_event(self, event_id: str) -> EventState | None:
        """Remove the event; what it was, None when it was not stored."""
        value = self.store.pop("e:" + event_id, None)
        return EventState.from_json(value) if value else None

    def record(self, alert_id: str) -> EventAlert | None:
        """The record the alert gave when it was folded, None when it has none (any more)."""
        value = self.store.get("a:" + alert_id)
        return event_record(value) if value is not None else None

    def put_record(self, record: EventAlert) -> None:
        """Store the record an alert gave, under its alert id."""
        self.store["a:" + record.alert_id] = record.model_dump(mode="json")

    def pop_record(self, alert_id: str) -> None:
        """Remove an alert's record, if stored."""
        self.store.pop("a:" + alert_id, None)
