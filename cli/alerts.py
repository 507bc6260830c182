"""``newswatch alerts``: print the events (news.event-alert.v1 and news.event-mention.v1), readable or as JSON lines; with --raw, the per-sentence alerts (news.alert.v1).

Readable events are append-only text, so the stream reads the same in a terminal, a pipe or a
log: a new event is printed at once with its frame; an update at once, indented, naming its event
and what it added; mentions are only counted, and summed up per event ("+ 3 mentions …") after
each batch the broker hands over. The formatting (``EventView``, ``format_*``) needs no Kafka.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from cli.connect import bootstrap_of, connecting, kafka_security
from cli.settings import CliSettings
from shared.schemas import Alert, EventAlert, Frame, FrameParty
from shared.topics import ALERTS, EVENT_ALERTS, EVENT_MENTIONS, TopicSpec

# How much of an event id the readable output shows: enough to tell events apart on a screen;
# --json has the whole id.
SHORT_ID = 8


def cmd_alerts(args: argparse.Namespace) -> int:
    """Print events (or with --raw alerts): those this group has not seen yet (or all with --from-beginning); --follow waits."""
    specs = [ALERTS] if args.raw else [EVENT_ALERTS, EVENT_MENTIONS]
    group = None if args.from_beginning else (args.group or CliSettings().alerts_group)
    consumer = open_consumer(args, specs, group=group)
    if consumer is None:
        return 1
    try:
        if args.raw:
            _print_alerts(consumer, args)
        else:
            _print_events(consumer, args)
    finally:
        consumer.close()
    return 0


def open_consumer(args: argparse.Namespace, specs: list[TopicSpec], *, group: str | None) -> Any:
    """A consumer on ``specs``: its group's position, or every partition from the start without a group."""
    bootstrap, security = bootstrap_of(args), kafka_security()
    with connecting(bootstrap, security):
        consumer = KafkaConsumer(
            bootstrap_servers=bootstrap.split(","),
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=group is not None,
            consumer_timeout_ms=1000,
            **security,
        )
    partitions = {spec.name: consumer.partitions_for_topic(spec.name) or set() for spec in specs}
    missing = [name for name, found in partitions.items() if not found]
    if missing:
        consumer.close()
        what = (
            f"topic {missing[0]} does" if len(missing) == 1 else f"topics {', '.join(missing)} do"
        )
        print(f"newswatch: {what} not exist yet (is `newswatch run` up?)", file=sys.stderr)
        return None
    if group is None:
        assigned = [
            TopicPartition(name, p) for name, found in partitions.items() for p in sorted(found)
        ]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
    else:
        consumer.subscribe([spec.name for spec in specs])
    return consumer


def _print_alerts(consumer: Any, args: argparse.Namespace) -> None:
    seen: set[str] = set()  # at-least-once delivery may repeat an alert; its id is stable
    try:
        while True:
            for record in consumer:
                try:
                    alert = Alert.model_validate_json(record.value)
                except ValueError as error:
                    print(
                        f"newswatch: unreadable alert at offset {record.offset}: {error}",
                        file=sys.stderr,
                    )
                    continue
                if alert.alert_id in seen:
                    continue
                seen.add(alert.alert_id)
                print(alert.model_dump_json() if args.json else format_alert(alert), flush=True)
            if not args.follow and caught_up(consumer):
                break
    except KeyboardInterrupt:
        pass


def _print_events(consumer: Any, args: argparse.Namespace) -> None:
    models = {EVENT_ALERTS.name: EVENT_ALERTS.model, EVENT_MENTIONS.name: EVENT_MENTIONS.model}
    seen: set[str] = set()
    view = EventView()
    try:
        while True:
            # poll, not iteration: a batch's end is where mentions are summed up, even under
            # steady traffic that never leaves the consumer idle
            batch = consumer.poll(timeout_ms=1000)
            for record in (r for records in batch.values() for r in records):
                try:
                    event = models[record.topic].model_validate_json(record.value)
                except ValueError as error:
                    print(
                        f"newswatch: unreadable event record in {record.topic} at offset {record.offset}: {error}",
                        file=sys.stderr,
                    )
                    continue
                assert isinstance(event, EventAlert)
                if not first_time(seen, event):
                    continue
                text = event.model_dump_json() if args.json else view.add(event)
                if text:
                    print(text, flush=True)
            done = not args.follow and caught_up(consumer)
            # Mentions of an event not shown yet wait for it (it may be further on the other
            # topic) until nothing more is coming.
            text = view.flush(idle=done or not batch)
            if text:
                print(text, flush=True)
            if done:
                break
    except KeyboardInterrupt:
        text = view.flush(idle=True)
        if text:
            print(text, flush=True)


def caught_up(consumer: object) -> bool:
    """Whether the consumer has read everything its partitions held when asked."""
    assignment = consumer.assignment()  # type: ignore[attr-defined]
    if not assignment:
        return False
    ends = consumer.end_offsets(list(assignment))  # type: ignore[attr-defined]
    return all(consumer.position(tp) >= end for tp, end in ends.items())  # type: ignore[attr-defined]


def first_time(seen: set[str], record: EventAlert) -> bool:
    """Whether ``record``'s alert is shown for the first time (and remember it).

    Keyed by the alert alone, not by (event, alert): delivery is at-least-once, and a replayed
    alert whose event has left the window since its first fold (an old article's alert, replayed
    after newer alerts of its bucket evicted its event) is decided again and can land in another
    event. The reader shows each alert once, under the event it was first folded into.
    """
    if record.alert_id in seen:
        return False
    seen.add(record.alert_id)
    return True


# ------------------------------------------------------------------------- readable events


class EventView:
    """The readable event stream, fed one record at a time (repeats already dropped).

    ``add`` gives the text of a new event or an update at once and keeps mentions back; ``flush``
    sums the kept mentions up, one line per event. Mentions of an event this view has not shown
    (its new may come later, on the other topic, or was shown by an earlier run of the group)
    wait for it until ``flush(idle=True)``, and are then printed with the event's frame.
    """

    def __init__(self) -> None:
        self.shown: set[str] = set()  # events whose new, update or mentions were printed
        self.pending: dict[str, list[EventAlert]] = {}  # mentions not summed up yet, by event

    def add(self, record: EventAlert) -> str | None:
        """The text to print now for ``record``: a new event or an update; None for a mention (kept for ``flush``)."""
        if record.status == "mention":
            self.pending.setdefault(record.event_id, []).append(record)
            return None
        self.shown.add(record.event_id)
        return format_new(record) if record.status == "new" else format_update(record)

    def flush(self, *, idle: bool) -> str | None:
        """The kept mentions summed up per event (in the order their events first had one), or None."""
        lines = []
        for event_id, mentions in list(self.pending.items()):
            known = event_id in self.shown
            if not (known or idle):
                continue
            lines.append(format_mentions(mentions, with_frame=not known))
            self.shown.add(event_id)
            del self.pending[event_id]
        return "\n".join(lines) or None


def format_party(party: FrameParty | None) -> str:
    """An actor or place with its country: "Russian (RU)", "Wagner Group", or "?" when not known."""
    if party is None:
        return "?"
    return f"{party.text} ({party.country})" if party.country else party.text


def format_frame(frame: Frame | None) -> str:
    """What the event says happened: actor, action, place, count, equipment, modality."""
    if frame is None:
        return "(no movement frame)"
    parts = [
        f"actor {format_party(frame.actor)}",
        f"action {frame.action or '?'}",
        f"place {format_party(frame.place)}",
    ]
    if frame.count is not None:
        parts.append(f"count {frame.count}")
    if frame.equipment:
        parts.append("equipment " + ", ".join(frame.equipment))
    parts.append(f"modality {frame.modality}")
    return " · ".join(parts)


def event_label(record: EventAlert) -> str:
    """How a line names its event: the id's start and the key ("event 1a2b3c4d troop_movement|in|RU|VE")."""
    return f"event {record.event_id[:SHORT_ID]} {record.event_key}"


def _report_lines(record: EventAlert, indent: str) -> list[str]:
    """Where the report came from, its evidence and link."""
    when = record.published_at or record.last_seen
    where = " · ".join(x for x in (record.source, record.title) if x) or record.article_id
    lines = [f"{indent}{when:%Y-%m-%d %H:%M} · {where}", f"{indent}“{record.evidence}”"]
    if record.url:
        lines.append(f"{indent}{record.url}")
    return lines


def format_new(record: EventAlert) -> str:
    """A new event, prominent: rule and severity, its frame, then the report (source, title, evidence)."""
    rule = f"{record.rule_id} ({record.rule_name})" if record.rule_name else record.rule_id
    head = " · ".join(x for x in ("● NEW EVENT", rule, record.severity, event_label(record)) if x)
    lines = [head, f"  {format_frame(record.frame)}", *_report_lines(record, "  ")]
    if record.alert_story_id:
        lines.append(f"  {story_label(record)}")
    return "\n".join(lines)


def story_label(record: EventAlert) -> str:
    """The story the report tells and its size then ("story 4e574af0, 5 articles")."""
    size = f", {_count(record.story_size, 'article')}" if record.story_size else ""
    return f"story {(record.alert_story_id or '?')[:SHORT_ID]}{size}"


def format_update(record: EventAlert) -> str:
    """An update, indented under its event: what it added, the event's frame now, and the report."""
    added = ", ".join(record.added) or "nothing"
    lines = [
        f"  ↳ UPDATE {event_label(record)}: added {added}",
        f"    now: {format_frame(record.frame)}",
        *_report_lines(record, "    "),
    ]
    return "\n".join(lines)


def format_mentions(mentions: list[EventAlert], *, with_frame: bool = False) -> str:
    """Mentions of one event summed up: how many, from which sources, and the event's totals so far."""
    latest = max(mentions, key=lambda m: m.reports)
    sources = ", ".join(dict.fromkeys(m.source for m in mentions if m.source))
    totals = (
        f"event so far: {_count(latest.reports, 'report')} ({_count(latest.mentions, 'mention')}), "
        f"{_count(latest.articles, 'article')}, {_count(len(latest.sources), 'source')}"
    )
    line = " · ".join(
        x
        for x in (f"  + {_count(len(mentions), 'mention')}", sources, event_label(latest), totals)
        if x
    )
    if with_frame:
        line += f"\n    {format_frame(latest.frame)}"
    return line


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# ------------------------------------------------------------------------- --raw


def format_alert(alert: Alert) -> str:
    """A readable alert: when, which rule, where from, the evidence and its entities."""
    where = " · ".join(x for x in (alert.source, alert.title) if x) or alert.article_id
    entities = ", ".join(f"{e.canonical or e.text} ({e.label})" for e in alert.entities)
    lines = [
        f"[{alert.fired_at:%Y-%m-%d %H:%M:%S}] {alert.rule_id}: {where}",
        f"  “{alert.evidence}”",
    ]
    if entities:
        lines.append(f"  entities: {entities}")
    if alert.url:
        lines.append(f"  {alert.url}")
    return "\n".join(lines)
