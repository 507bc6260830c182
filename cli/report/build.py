"""The report page from records: events, places, stories, throughput, lag and dead letters, as HTML.

Pure: records in, one HTML string out; no Kafka, no network, no environment. Every text that came
from an article (titles, evidence, places, actors) is escaped with ``html.escape``; the charts are
plotly figures whose JavaScript is inlined once in the head, so the page opens with no network. The page stays
bounded whatever the volume: charts aggregate per hour, tables keep the latest or largest rows.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from shared.schemas import DeadLetter, EventAlert, Frame, FrameParty, StoryRecord

# How many rows the tables keep: the page must open quickly for a day of 50,000 articles.
LATEST_EVENTS = 50
TOP_STORIES = 30
TOP_PLACES = 50
# How many series a chart of events over time shows; the rest are summed as "other".
TOP_SERIES = 12
SHORT_ID = 8
UNKNOWN = "?"


@dataclass(frozen=True)
class ReportInput:
    """What the page shows: the records read from the topics, the window, and the per-stage figures.

    ``throughput`` is messages per topic in the window; ``lag`` the consumer lag per service
    (None: Prometheus not asked or not reachable, said in ``lag_note``).
    """

    events: Iterable[EventAlert]
    stories: Iterable[StoryRecord]
    dead_letters: Iterable[DeadLetter]
    now: datetime
    since: timedelta
    throughput: Mapping[str, int] = field(default_factory=dict)
    lag: Mapping[str, float] | None = None
    lag_note: str = "Prometheus not asked (--prometheus URL)."


@dataclass
class _Event:
    """One event as its latest record leaves it."""

    latest: EventAlert
    first: datetime
    reports: int = 0


def report_time(record: EventAlert) -> datetime:
    """When a report was made: its article's publication time, else the event's latest article time."""
    return _utc(record.published_at or record.last_seen)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _fold_events(records: Iterable[EventAlert], start: datetime) -> dict[str, _Event]:
    """The events reported within the window, each as its latest record (the most reports) leaves it."""
    events: dict[str, _Event] = {}
    for record in records:
        if report_time(record) < start:
            continue
        event = events.get(record.event_id)
        if event is None:
            events[record.event_id] = _Event(record, _utc(record.first_seen), record.reports)
        elif record.reports >= event.reports:
            event.latest, event.reports = record, record.reports
    return events


def _country(frame: Frame | None) -> str:
    party = frame.place if frame else None
    return (party.country if party and party.country else None) or UNKNOWN


def _party(party: FrameParty | None) -> str:
    if party is None:
        return UNKNOWN
    return f"{party.text} ({party.country})" if party.country else party.text


def build_report(data: ReportInput) -> str:
    """The whole page as one HTML string (plotly's JavaScript inlined once)."""
    now = _utc(data.now)
    start = now - data.since
    events = _fold_events(data.events, start)
    stories: dict[str, StoryRecord] = {}
    for story in data.stories:
        if _utc(story.last_seen) >= start:
            known = stories.get(story.story_id)
            if known is None or story.size >= known.size:
                stories[story.story_id] = story
    dead = [d for d in data.dead_letters if _utc(d.failed_at) >= start]

    charts = _Charts()
    if data.lag is None:
        lag = f"<p class=note>{html.escape(data.lag_note)}</p>"
    else:
        lag = charts.bars(
            data.lag,
            "Consumer lag per stage (news_consumer_lag)",
            "messages behind",
            "Prometheus has no news_consumer_lag series.",
        )
    window = f"{start:%Y-%m-%d %H:%M} → {now:%Y-%m-%d %H:%M} UTC"
    summary = (
        f"{window} · {len(events)} events · {sum(e.reports for e in events.values())} reports · "
        f"{len(stories)} stories · {len(dead)} dead letters"
    )
    sections = [
        f"<h1>newswatch report</h1><p class=meta>{html.escape(summary)}</p>",
        "<h2>Events over time</h2>",
        charts.add(_over_time(events, lambda e: e.latest.rule_id, "rule", start, now)),
        charts.add(_over_time(events, lambda e: _country(e.latest.frame), "country", start, now)),
        "<h2>Places</h2>",
        _places_table(events),
        "<h2>Latest events</h2>",
        _events_table(events),
        "<h2>Stories</h2>",
        _stories_table(stories),
        "<h2>Throughput per stage</h2>",
        charts.bars(
            data.throughput,
            "Messages per topic in the window",
            "messages",
            "No messages in the window.",
        ),
        "<h2>Lag per stage</h2>",
        lag,
        "<h2>Dead letters</h2>",
        charts.bars(
            Counter(f"{d.service}: {d.reason}" for d in dead),
            "Dead letters by service and reason",
            "dead letters",
            "No dead letters in the window.",
        ),
    ]
    # plotly.js inlined once, in the head: every figure's script, wherever it stands, finds it
    plotlyjs = f'<script charset="utf-8">{get_plotlyjs()}</script>' if charts.count else ""
    return _PAGE.format(
        plotlyjs=plotlyjs,
        figures=charts.count,
        body="\n".join(sections),
        generated=html.escape(f"{now:%Y-%m-%d %H:%M} UTC"),
    )


class _Charts:
    """The page's figures as HTML, without plotly's JavaScript (the page's head holds it once)."""

    def __init__(self) -> None:
        self.count = 0

    def add(self, fig: go.Figure) -> str:
        self.count += 1
        return str(
            fig.to_html(
                include_plotlyjs=False,
                full_html=False,
                config={"displayModeBar": False, "responsive": True},
            )
        )

    def bars(self, values: Mapping[str, float], title: str, unit: str, empty: str) -> str:
        """A horizontal bar per name, largest first; a note when there is nothing to draw."""
        if not values:
            return f"<p class=note>{html.escape(empty)}</p>"
        return self.add(_bars(values, title, unit))


def _bucket(since: timedelta) -> timedelta:
    """The width of a bar of events over time: an hour for a day or two, a day up to three months, else a week."""
    if since <= timedelta(days=2):
        return timedelta(hours=1)
    return timedelta(days=1) if since <= timedelta(days=92) else timedelta(days=7)


def _floor(moment: datetime, width: timedelta) -> datetime:
    epoch = datetime(1970, 1, 5, tzinfo=UTC)  # a Monday: weeks start on Mondays
    return epoch + ((moment.astimezone(UTC) - epoch) // width) * width


def _over_time(
    events: Mapping[str, _Event],
    key: Callable[[_Event], str],
    what: str,
    start: datetime,
    now: datetime,
) -> go.Figure:
    """New events per bucket (by their first report), one stacked series per key (the largest few)."""
    width = _bucket(now - start)
    by_key: dict[str, Counter[datetime]] = defaultdict(Counter)
    for event in events.values():
        by_key[key(event)][_floor(max(event.first, start), width)] += 1
    ranked = sorted(by_key, key=lambda k: (-sum(by_key[k].values()), k))
    shown = ranked[:TOP_SERIES]
    if len(ranked) > TOP_SERIES:
        other: Counter[datetime] = Counter()
        for k in ranked[TOP_SERIES:]:
            other.update(by_key[k])
        by_key["other"] = other
        shown.append("other")
    # the x axis runs from the first bucket with an event (or the window's start) to now
    first = min((b for c in by_key.values() for b in c), default=_floor(start, width))
    buckets = []
    bucket = first
    while bucket <= now:
        buckets.append(bucket)
        bucket += width
    bar_ms = width.total_seconds() * 1000 * 0.9  # a date axis counts in milliseconds
    fig = go.Figure(
        [
            go.Bar(name=k, x=buckets, y=[by_key[k].get(b, 0) for b in buckets], width=bar_ms)
            for k in shown
        ]
    )
    per = {timedelta(hours=1): "hour", timedelta(days=1): "day"}.get(width, "week")
    fig.update_layout(
        barmode="stack",
        title=f"New events per {per} by {what}",
        height=320,
        margin={"t": 40, "b": 30},
        legend_title_text=what,
    )
    return fig


def _bars(values: Mapping[str, float], title: str, unit: str) -> go.Figure:
    names = sorted(values, key=lambda k: -values[k])
    fig = go.Figure([go.Bar(x=[values[n] for n in names], y=names, orientation="h")])
    fig.update_layout(
        title=title,
        height=max(200, 60 + 24 * len(names)),
        margin={"t": 40, "b": 30, "l": 220},
        xaxis_title=unit,
        yaxis={"autorange": "reversed"},
    )
    return fig


def _table(head: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f"<p class=note>{html.escape(empty)}</p>"
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def _places_table(events: Mapping[str, _Event]) -> str:
    count: Counter[tuple[str, str]] = Counter()
    reports: Counter[tuple[str, str]] = Counter()
    for event in events.values():
        place = event.latest.frame.place if event.latest.frame else None
        key = (_country(event.latest.frame), place.text if place else UNKNOWN)
        count[key] += 1
        reports[key] += event.reports
    rows = [
        [country, place, str(n), str(reports[(country, place)])]
        for (country, place), n in sorted(count.items(), key=lambda kv: (-kv[1], kv[0]))[
            :TOP_PLACES
        ]
    ]
    return _table(["country", "place", "events", "reports"], rows, "No events in the window.")


def _events_table(events: Mapping[str, _Event]) -> str:
    latest = sorted(events.values(), key=lambda e: report_time(e.latest), reverse=True)
    rows = []
    for event in latest[:LATEST_EVENTS]:
        record, frame = event.latest, event.latest.frame
        story = record.alert_story_id or record.story_id
        rows.append(
            [
                f"{report_time(record):%Y-%m-%d %H:%M}",
                record.rule_id,
                _party(frame.actor if frame else None),
                (frame.action if frame else None) or UNKNOWN,
                _party(frame.place if frame else None),
                "" if not frame or frame.count is None else str(frame.count),
                ", ".join(frame.equipment) if frame else "",
                frame.modality if frame else "",
                str(event.reports),
                f"{story[:SHORT_ID]} ({record.story_size or '?'})" if story else "",
                record.title or record.article_id,
            ]
        )
    head = ["last report", "rule", "actor", "action", "place", "count", "equipment"]
    head += ["modality", "reports", "story (size)", "title"]
    return _table(head, rows, "No events in the window.")


def _stories_table(stories: Mapping[str, StoryRecord]) -> str:
    ranked = sorted(stories.values(), key=lambda s: (-s.size, -s.last_seen.timestamp()))
    rows = [
        [
            s.story_id[:SHORT_ID],
            str(s.size),
            str(len(s.sources)),
            " ".join(s.countries),
            f"{_utc(s.last_seen):%Y-%m-%d %H:%M}",
            s.title or s.article_id,
        ]
        for s in ranked[:TOP_STORIES]
    ]
    head = ["story", "size", "sources", "countries", "last seen", "title"]
    return _table(head, rows, "No stories in the window.")


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:">
<title>newswatch report</title>
{plotlyjs}
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }}
h1 {{ margin-bottom: 0; }} .meta, .note {{ color: #666; }}
table {{ border-collapse: collapse; font-size: 0.85em; margin-bottom: 1em; }}
th, td {{ border: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }}
th {{ background: #f4f4f4; }}
</style></head>
<body data-figures="{figures}">
{body}
<p class=meta>generated {generated} by newswatch report</p>
</body></html>
"""
