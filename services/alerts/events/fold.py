"""Events fold: Alert in, the EventAlert of the event it reports out.

Consumes Alert (with its frame); produces EventAlert (the new, update or mention of the event
the alert reports); no DLQ. Matches of a rule about the same movement form one event,
GDELT/EMM-style: the first report opens it (``new``), a later report that adds a fact is an
``update``, any other report a ``mention`` counted on it. Pure: the state is any
``MutableMapping[str, Any]`` the caller passes, laid out and typed in
``services.alerts.events.state``; the window comes from the service's settings. The rules are in
services/alerts/README.md, "Events (core)".

Every key an alert reads or writes belongs to its bucket (``bucket_key``): repartitioned by that
key, one worker owns a bucket with everything its decisions read, and a changelog partition
holds all of it.
"""

from __future__ import annotations

import uuid
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any

from services.alerts.events.keys import (
    article_time,
    bucket_key,
    epoch,
    from_epoch,
    is_country_key,
    party_key,
    place_kind,
    same_side,
    same_town,
    town_key,
)
from services.alerts.events.state import (
    Bucket,
    BucketEntry,
    EventKey,
    EventState,
    EventStore,
    RecentReport,
)
from shared.schemas import NO_MOVEMENT, Alert, Modality, PlaceKind
from shared.schemas.events import EventAlert, EventMention, Fact, Status

# Fixed namespace: an event id is uuid5(key, first report), identical on every replay.
EVENT_NAMESPACE = uuid.UUID("0b8d3f6e-7c2a-4e1b-9f4d-6a5c8e2b1d70")
# Alerts that name no movement (no frame, or a frame without an action: ``NO_MOVEMENT``) are each
# their own event, since nothing says which other report tells the same thing.
UNKNOWN = "?"  # a key part not known yet, as printed in ``event_key``
_FIRM: Modality = "fact"
_MORE_PRECISE: frozenset[PlaceKind] = frozenset({"region", "city"})  # place kinds inside a country


class EventFolder:
    """Folds alerts into events over one store: each alert gives one ``EventAlert`` (new, update or mention).

    The key of an event: the rule, the direction of the movement (``DIRECTIONS``), the actor
    and the place (``party_key``; beside it the town, ``town_key``). An alert joins the open
    event of its bucket with the same actor and place; failing that, a compatible event its
    article reached; failing that, of the open events that agree with it on every part both
    know and share a known part or its story with it, the one closest to it; failing that it
    opens a new event (the order in docs/events.md). Joining an event that lacked the actor or
    place fills it in.

    A report is an ``update`` when it adds a fact (``Fact``): an actor or place the event lacked,
    a place inside the event's country when the event had only the country, a count not reported
    before, a platform not named before, or ``fact`` where the event was only planned, offered,
    demanded or denied. Else it is a ``mention``.

    Eviction is decided here, from article time and the store, never from a clock: each bucket
    keeps its watermark (the latest article time it has seen), and an event leaves the store once
    it has had no report for ``window`` of that time. An event's ``keep`` is the watermark when it
    last had a report: for an alert in order that is its own time; a late one (an old article
    arriving after newer ones) keeps the event as long as a report arriving now would. So a
    replay, a restarted worker and ``newswatch process`` decide and evict alike.
    """

    def __init__(self, store: MutableMapping[str, Any], *, window: timedelta) -> None:
        """Bind the folder to ``store``; ``window`` (from the service's settings) bounds how long an event waits for reports."""
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        self.store = store
        self._events = EventStore(store)
        self.window = int(window.total_seconds())
        self.evicted = 0
        """How many events the latest ``fold`` evicted."""

    def fold(self, alert: Alert) -> EventAlert:
        """Fold one alert into its event and return the record of it; evict the bucket's expired events first.

        Idempotent: an alert id already folded (its record still in the window) gives the very
        record it gave the first time, and nothing is written or counted again. A replay whose
        record has left the window is decided again against what the store still holds.
        """
        self.evicted = 0
        recorded = self._events.record(alert.alert_id)
        if recorded is not None:
            return recorded

        t = epoch(article_time(alert))
        bucket_id = bucket_key(alert)
        bucket = self._events.bucket(bucket_id) or Bucket(t, {})
        if alert.published_at is None and any(
            alert.story_id is not None and entry.story == alert.story_id
            for entry in bucket.events.values()
        ):
            # An undated report of a story the bucket holds is read as of the bucket's time, not
            # of when we read it: "now" of a replayed 2019 story would evict its dated events.
            t = min(t, bucket.watermark)
        w = max(bucket.watermark, t)
        events = dict(bucket.events)
        self._evict(events, w)

        frame = alert.frame
        direction = frame.direction if frame is not None else NO_MOVEMENT
        actor = party_key(frame.actor) if frame is not None else None
        place = party_key(frame.place) if frame is not None else None
        if direction == NO_MOVEMENT:
            event_id = self._same_story(events, alert.story_id)
        else:
            town = town_key(frame.place, place_kind(alert, frame.place)) if frame else None
            event_id = self._match(events, actor, place, town, alert)
        if event_id is None:
            event_id, state = self._open(alert, direction, actor, place, t, w)
            status: Status = "new"
            added: list[Fact] = []
        else:
            state, added = self._join(self._events.event(event_id), alert, actor, place, t, w)
            status = "update" if added else "mention"
            if status == "mention":
                state.mentions += 1

        record = self._record(event_id, status, added, state, alert)
        # The event, then the bucket's index of it, then the alert's record last: the record
        # says "done", so an alert redelivered after a crash part-way is decided again (a new
        # event gets the same id again); the index never names an event that was never written.
        self._events.put_event(event_id, state)
        events[event_id] = BucketEntry(
            state.key.actor,
            state.key.place,
            w,
            state.story,
            town_key(state.frame.place, state.place_kind) if state.frame is not None else None,
        )
        self._events.put_bucket(bucket_id, Bucket(w, events))
        self._events.put_record(record)
        return record

    # ---------------------------------------------------------------- decisions

    def _evict(self, events: dict[str, BucketEntry], w: int) -> None:
        # The bucket's index says when each event last had a report, so the pass reads no event
        # it does not remove. Records go before the index entry, so a pass cut short is redone.
        for event_id, entry in list(events.items()):
            if entry.keep < w - self.window:
                state = self._events.pop_event(event_id)
                for report in state.recent if state is not None else []:
                    self._events.pop_record(report.alert_id)
                del events[event_id]
                self.evicted += 1

    def _match(
        self,
        events: dict[str, BucketEntry],
        actor: str | None,
        place: str | None,
        town: str | None,
        alert: Alert,
    ) -> str | None:
        def fits(entry: BucketEntry) -> bool:  # the same town, or a town and its country
            return town is None or entry.town is None or same_town(entry.town, town)

        if actor is not None or place is not None:
            exact = [
                e
                for e, entry in events.items()
                if entry.actor == actor and entry.place == place and fits(entry)
            ]
            if exact:  # the one naming its town first ("Najaf" over "Iraq")
                return next((e for e in exact if events[e].town == town), exact[0])

        def sided(entry: BucketEntry) -> bool:
            return entry.actor is None or actor is None or same_side(entry.actor, actor)

        agree = [
            e
            for e, entry in events.items()
            if sided(entry)
            and (entry.place is None or place is None or entry.place == place)
            and fits(entry)
        ]

        def shared(e: str) -> int:
            entry = events[e]
            return (
                actor is not None and entry.actor is not None and same_side(entry.actor, actor)
            ) + (place is not None and entry.place == place)

        # An article tells of one movement per rule and direction as a rule: a later sentence
        # of it that names less ("soldiers were leaving their base"), or names a town where the
        # first named a country ("Faya-Largeau", "Chad"), joins the event the article reached;
        # two countries are two places even there.
        same_article = [
            e
            for e, entry in events.items()
            if sided(entry)
            and (
                entry.place is None
                or place is None
                or entry.place == place
                or not (is_country_key(entry.place) and is_country_key(place))
            )
            and any(r.article_id == alert.article_id for r in self._events.event(e).recent)
        ]
        if same_article:
            return max(same_article, key=shared)  # the first opened of equals
        # Elsewhere a report joins only an event it shares a known part with, or whose story it
        # tells: "troops arrived" agrees with every open event and says which of none of them.
        story = alert.story_id
        backed = [e for e in agree if shared(e) or (story is not None and events[e].story == story)]
        # Of several, the events that share the most known parts with it ("Russia|?" is closer
        # to "Russia|Venezuela" than to "?|Venezuela"); among equals, the one of its story.
        best = max((shared(e) for e in backed), default=0)
        closest = [e for e in backed if shared(e) == best]
        if len(closest) == 1:
            return closest[0]
        same_story = [e for e in closest if story is not None and events[e].story == story]
        return same_story[0] if len(same_story) == 1 else None

    @staticmethod
    def _same_story(events: dict[str, BucketEntry], story: str | None) -> str | None:
        # A report without a frame says nothing of who or where; the story it tells is all that
        # ties it to another (the carrier "Kitty Hawk" in two wires of one story is one event).
        if story is None:
            return None
        same = [e for e, entry in events.items() if entry.story == story]
        return same[0] if len(same) == 1 else None

    def _open(
        self, alert: Alert, direction: str, actor: str | None, place: str | None, t: int, w: int
    ) -> tuple[str, EventState]:
        # The first report's id is in the event id: the same movement reported again after its
        # event left the window is another event, with another id; a replay keeps the id.
        if direction == NO_MOVEMENT:
            key = EventKey(alert.rule_id, direction, None, alert.alert_id)
        else:
            key = EventKey(alert.rule_id, direction, actor, place)
        name = "\x1f".join(str(part) for part in [*key, alert.alert_id])
        event_id = str(uuid.uuid5(EVENT_NAMESPACE, name))
        frame = alert.frame
        state = EventState(
            key=key,
            frame=frame,
            place_kind=place_kind(alert, frame.place if frame is not None else None),
            first=t,
            last=t,
            reports=1,
            mentions=0,
            articles=1,
            sources=[alert.source] if alert.source else [],
            counts=[frame.count] if frame is not None and frame.count is not None else [],
            recent=[RecentReport(alert.alert_id, alert.article_id, w)],
            story=alert.story_id,
        )
        return event_id, state

    def _join(
        self,
        state: EventState,
        alert: Alert,
        actor: str | None,
        place: str | None,
        t: int,
        w: int,
    ) -> tuple[EventState, list[Fact]]:
        key = state.key
        merged = state.frame
        report = alert.frame
        if key.direction == NO_MOVEMENT or merged is None or report is None:  # joined by story
            return self._count(state, alert, t, w), []
        changes: dict[str, Any] = {}
        added: list[Fact] = []

        if key.actor is None and actor is not None and report.actor is not None:
            key, changes["actor"] = key._replace(actor=actor), report.actor
            added.append("actor")
        if report.place is not None and place is not None:
            kind = place_kind(alert, report.place)
            if key.place is None or (
                key.place == place and state.place_kind == "country" and kind in _MORE_PRECISE
            ):
                key, changes["place"], state.place_kind = (
                    key._replace(place=place),
                    report.place,
                    kind,
                )
                added.append("place")
        if report.count is not None and report.count not in state.counts:
            changes["count"] = report.count
            state.counts = [*state.counts, report.count]
            added.append("count")
        known = {name.casefold() for name in merged.equipment}
        new_equipment = [name for name in report.equipment if name.casefold() not in known]
        if new_equipment:
            changes["equipment"] = [*merged.equipment, *dict.fromkeys(new_equipment)]
            added.append("equipment")
        if merged.modality != _FIRM and report.modality == _FIRM:
            changes["modality"] = _FIRM
            added.append("modality")

        state.key = key
        state.frame = merged.model_copy(update=changes) if changes else merged
        return self._count(state, alert, t, w), added

    def _count(self, state: EventState, alert: Alert, t: int, w: int) -> EventState:
        """The report counted on its event: times, sources, the reports still in the window."""
        # Reports older than the window leave the event's memory (their replay records too), so
        # an event reported every day for months stays bounded by the window's traffic.
        recent = []
        for entry in state.recent:
            if entry.keep < w - self.window:
                self._events.pop_record(entry.alert_id)
            else:
                recent.append(entry)
        if alert.article_id not in {entry.article_id for entry in recent}:
            state.articles += 1
        state.recent = [*recent, RecentReport(alert.alert_id, alert.article_id, w)]
        state.first = min(state.first, t)
        state.last = max(state.last, t)
        state.reports += 1
        if alert.source and alert.source not in state.sources:
            state.sources = [*state.sources, alert.source]
        return state

    @staticmethod
    def _record(
        event_id: str, status: Status, added: list[Fact], state: EventState, alert: Alert
    ) -> EventAlert:
        rule, direction, actor, place = state.key
        if direction == NO_MOVEMENT:
            event_key = f"{rule}|{direction}|{place}"
        else:
            event_key = f"{rule}|{direction}|{actor or UNKNOWN}|{place or UNKNOWN}"
        model: type[EventAlert] = EventMention if status == "mention" else EventAlert
        return model(
            event_id=event_id,
            status=status,
            added=added,
            event_key=event_key,
            rule_id=alert.rule_id,
            rule_name=alert.rule_name,
            severity=alert.severity,
            frame=state.frame,
            first_seen=from_epoch(state.first),
            last_seen=from_epoch(state.last),
            reports=state.reports,
            mentions=state.mentions,
            articles=state.articles,
            sources=state.sources,
            alert_id=alert.alert_id,
            article_id=alert.article_id,
            sentence_index=alert.sentence_index,
            evidence=alert.evidence,
            alert_frame=alert.frame,
            title=alert.title,
            url=alert.url,
            source=alert.source,
            published_at=alert.published_at,
            story_id=state.story,
            alert_story_id=alert.story_id,
            story_size=alert.story_size,
        )


def fold(store: MutableMapping[str, Any], alert: Alert, *, window: timedelta) -> EventAlert:
    """Fold one alert into its event in ``store`` (see ``EventFolder``); the window comes from the settings."""
    return EventFolder(store, window=window).fold(alert)
