"""Tests for cli/alerts.py's readable events: real EventAlert/EventMention records, folded by the events core from hand-built alerts; no Kafka."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cli.alerts import (
    EventView,
    first_time,
    format_frame,
    format_mentions,
    format_new,
    format_party,
    format_update,
)
from cli.main import parse_args
from services.alerts.events import EventFolder
from shared.schemas import Alert, EventAlert, EventMention, Frame, FrameParty
from tests.factories import CARACAS, troop_alert


def make_alert(n: int, *, source: str | None = "reuters.com", **kwargs: Any) -> Alert:
    """The n-th report of a movement, with the headline, link and evidence the readable output shows."""
    return troop_alert(
        alert_id=f"alert-{n:04d}",
        article_id=f"article-{n:04d}",
        sentence_index=2,
        evidence=f"Evidence sentence number {n}.",
        title=f"Headline {n}",
        url=f"https://example.org/{n}",
        rule_name="Troop movement",
        severity="high",
        source=source,
        **kwargs,
    )


@pytest.fixture
def folded() -> list[EventAlert]:
    """A movement reported five times: new, two mentions, an update (place, count, equipment), a mention."""
    folder = EventFolder({}, window=timedelta(days=7))
    alerts = [
        make_alert(1, count=None),
        make_alert(2, source="bbc.co.uk", day=0.1),
        make_alert(3, source="apnews.com", day=0.2),
        make_alert(
            4, place=CARACAS, count=100, equipment=("Il-62",), source="theguardian.com", day=1
        ),
        make_alert(5, place=CARACAS, count=100, source="bbc.co.uk", day=1.5),
    ]
    return [folder.fold(a) for a in alerts]


def test_the_fold_gives_the_statuses_the_view_is_tested_on(folded):
    assert [r.status for r in folded] == ["new", "mention", "mention", "update", "mention"]
    assert all(isinstance(r, EventMention) for r in folded if r.status == "mention")
    assert folded[3].added == ["place", "count", "equipment"]
    assert len({r.event_id for r in folded}) == 1


def test_a_new_event_shows_its_frame_rule_severity_source_title_and_evidence(folded):
    text = format_new(folded[0])
    head, frame_line, *rest = text.splitlines()
    assert head.startswith("● NEW EVENT")
    assert "troop_movement (Troop movement)" in head and "high" in head
    assert folded[0].event_id[:8] in head and "troop_movement|in|RU|VE" in head
    assert (
        frame_line == "  actor Russian (RU) · action deploy · place Venezuela (VE) · modality fact"
    )
    assert "  2019-03-25 12:00 · reuters.com · Headline 1" in rest
    assert "  “Evidence sentence number 1.”" in rest
    assert "  https://example.org/1" in rest


def test_an_update_is_indented_names_its_event_and_says_what_it_added(folded):
    text = format_update(folded[3])
    lines = text.splitlines()
    assert (
        lines[0]
        == f"  ↳ UPDATE event {folded[3].event_id[:8]} troop_movement|in|RU|VE: added place, count, equipment"
    )
    # the event's merged frame now, not only this report's
    assert lines[1] == (
        "    now: actor Russian (RU) · action deploy · place Caracas (VE) · count 100"
        " · equipment Il-62 · modality fact"
    )
    assert all(line.startswith("  ") for line in lines)
    assert "    “Evidence sentence number 4.”" in lines


def test_mentions_are_counted_with_their_sources_and_the_event_totals(folded):
    line = format_mentions([folded[1], folded[2]])
    assert line == (
        f"  + 2 mentions · bbc.co.uk, apnews.com · event {folded[0].event_id[:8]} troop_movement|in|RU|VE"
        " · event so far: 3 reports (2 mentions), 3 articles, 3 sources"
    )
    one = format_mentions([folded[4]])
    assert one.startswith("  + 1 mention · bbc.co.uk · ")
    assert "event so far: 5 reports (3 mentions), 5 articles, 4 sources" in one
    assert format_mentions([folded[1]]).endswith(
        "event so far: 2 reports (1 mention), 2 articles, 2 sources"
    )


def test_mentions_of_an_event_not_shown_carry_its_frame(folded):
    text = format_mentions([folded[4]], with_frame=True)
    assert text.splitlines()[1] == (
        "    actor Russian (RU) · action deploy · place Caracas (VE) · count 100"
        " · equipment Il-62 · modality fact"
    )


def test_the_view_prints_new_and_update_at_once_and_sums_mentions_up_at_a_flush(folded):
    view = EventView()
    out = [view.add(r) for r in folded[:3]]
    assert out[0] == format_new(folded[0]) and out[1:] == [None, None]
    assert view.flush(idle=False) == format_mentions(folded[1:3])
    assert view.flush(idle=False) is None  # summed up once
    assert view.add(folded[3]) == format_update(folded[3])
    assert view.add(folded[4]) is None
    assert view.flush(idle=False) == format_mentions([folded[4]])


def test_mentions_wait_for_their_event_until_idle(folded):
    # The mention topic is read apart from the event-alert topic: a mention may come first.
    view = EventView()
    view.add(folded[1])
    assert view.flush(idle=False) is None
    assert view.add(folded[0]) == format_new(folded[0])
    assert view.flush(idle=False) == format_mentions([folded[1]])

    # An event this reader never shows (its new was shown by an earlier run of the group):
    # summed up with the event's frame once nothing more is coming.
    late = EventView()
    late.add(folded[4])
    assert late.flush(idle=False) is None
    assert late.flush(idle=True) == format_mentions([folded[4]], with_frame=True)


def test_a_replayed_record_is_shown_once(folded):
    folder = EventFolder({}, window=timedelta(days=7))
    alert = make_alert(9)
    record, replay = folder.fold(alert), folder.fold(alert)
    assert (replay.event_id, replay.alert_id) == (record.event_id, record.alert_id)
    seen: set[str] = set()
    assert [first_time(seen, r) for r in (record, replay, folded[0], folded[1])] == [
        True,
        False,
        True,
        True,
    ]


def test_an_alert_replayed_after_its_event_left_the_window_is_shown_once():
    # An old article's alert opens an event; a newer alert of the bucket moves the clock past the
    # window and evicts it; the old alert replayed (at-least-once) is decided again and joins the
    # newer event: two records of one alert under two events. The reader shows the first only.
    folder = EventFolder({}, window=timedelta(days=7))
    old, new = make_alert(1, day=0), make_alert(2, day=30)
    first, _, replay = folder.fold(old), folder.fold(new), folder.fold(old)
    assert replay.alert_id == first.alert_id and replay.event_id != first.event_id
    seen: set[str] = set()
    assert [first_time(seen, r) for r in (first, replay)] == [True, False]


def test_a_frame_without_countries_or_parts_is_still_readable():
    frame = Frame(actor=FrameParty(text="Wagner Group"), action=None, place=None, modality="plan")
    assert format_party(None) == "?"
    assert format_frame(frame) == "actor Wagner Group · action ? · place ? · modality plan"
    assert format_frame(None) == "(no movement frame)"


def test_raw_is_an_option_and_events_are_the_default():
    assert parse_args(["alerts"]).raw is False
    args = parse_args(["alerts", "--raw", "--json", "--from-beginning"])
    assert (args.raw, args.json, args.from_beginning) == (True, True, True)
