"""alerts' events stage under the worker's agent loop (fake topics, a dict for its Table, no broker): topics, keys, replays, counters."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from services.alerts.stage import EVENTS
from services.stages import STAGES
from shared.schemas import Alert, DeadLetter, EventAlert, EventMention, Frame, FrameParty
from shared.topics import ALERTS, DEAD_LETTERS, EVENT_ALERTS, EVENT_MENTIONS
from tests.factories import run_stage

EXAMPLE = Alert.model_validate_json(
    (
        Path(__file__).resolve().parents[3] / "seeds" / ALERTS.name / "troop-movement.json"
    ).read_bytes()
)


def report(
    n: int,
    *,
    count: int | None = None,
    equipment: tuple[str, ...] = (),
    hours: float = 0,
    action: str = "arrive",
) -> Alert:
    """The seed alert as the n-th report of the arrival (its own alert and article), ``hours`` later."""
    assert EXAMPLE.frame is not None
    frame = Frame(
        actor=FrameParty(text="Russian", country="RU"),
        action=action,  # type: ignore[arg-type]
        place=FrameParty(text="Venezuela", country="VE"),
        count=count,
        equipment=list(equipment),
    )
    when = EXAMPLE.fired_at + timedelta(hours=hours)
    return EXAMPLE.model_copy(
        update={
            "alert_id": f"alert-{n}",
            "article_id": f"article-{n}",
            "frame": frame,
            "frames": [frame],
            "published_at": when,
            "fired_at": when,
        }
    )


def test_the_first_report_is_new_a_fact_added_is_an_update_and_a_restatement_a_mention():
    alerts = [report(1), report(2, count=100), report(3), report(4, equipment=("Il-62",))]
    run = run_stage(EVENTS, [a.to_bytes() for a in alerts])
    news = [EventAlert.model_validate_json(v) for v in run.sent(EVENT_ALERTS.name)]
    mentions = [EventMention.model_validate_json(v) for v in run.sent(EVENT_MENTIONS.name)]
    assert [(e.alert_id, e.status, e.added) for e in news] == [
        ("alert-1", "new", []),
        ("alert-2", "update", ["count"]),
        ("alert-4", "update", ["equipment"]),
    ]
    assert [(m.alert_id, m.status) for m in mentions] == [("alert-3", "mention")]
    # one event; every record keyed by it, so its new, updates and mentions stay in order
    event_ids = {e.event_id for e in [*news, *mentions]}
    assert len(event_ids) == 1
    keys = [k for k, _ in run.topics[EVENT_ALERTS.name].sent] + [
        k for k, _ in run.topics[EVENT_MENTIONS.name].sent
    ]
    assert set(keys) == {event_ids.pop().encode()}
    assert (
        news[-1].frame is not None
        and news[-1].frame.count == 100
        and news[-1].frame.equipment == ["Il-62"]
    )
    assert news[-1].reports == 4 and news[-1].mentions == 1
    assert (
        run.sample("news_events_total", service="alerts", rule="troop_movement", status="new") == 1
    )
    assert (
        run.sample("news_events_total", service="alerts", rule="troop_movement", status="update")
        == 2
    )
    assert (
        run.sample("news_events_total", service="alerts", rule="troop_movement", status="mention")
        == 1
    )


def test_a_restarted_worker_on_the_same_table_republishes_the_same_records_and_goes_on():
    table: dict[str, object] = {}
    first = run_stage(EVENTS, [report(1).to_bytes(), report(2, count=100).to_bytes()], store=table)
    # A new worker recovers the Table from its changelog and replays from the last commit.
    again = run_stage(EVENTS, [report(2, count=100).to_bytes(), report(5).to_bytes()], store=table)
    assert again.sent(EVENT_ALERTS.name) == first.sent(EVENT_ALERTS.name)[1:]
    later = EventMention.model_validate_json(again.sent(EVENT_MENTIONS.name)[0])
    assert later.alert_id == "alert-5"
    assert (
        later.event_id == EventAlert.model_validate_json(first.sent(EVENT_ALERTS.name)[0]).event_id
    )


def test_an_event_past_its_window_is_evicted_and_the_movement_reported_again_is_new():
    days = EVENTS.settings().alerts_event_window_days
    run = run_stage(EVENTS, [report(1).to_bytes(), report(2, hours=24 * days + 48).to_bytes()])
    news = [EventAlert.model_validate_json(v) for v in run.sent(EVENT_ALERTS.name)]
    assert [e.status for e in news] == ["new", "new"] and news[0].event_id != news[1].event_id
    assert run.sample("news_events_evicted_total", service="alerts") == 1


def test_a_message_that_is_not_an_alert_is_dead_lettered_and_the_next_one_processed():
    run = run_stage(EVENTS, [b'{"alert_id": "no rule"}', report(1).to_bytes()])
    letters = [DeadLetter.model_validate_json(v) for v in run.sent(DEAD_LETTERS["alerts"].name)]
    assert [(d.reason, d.source_topic, d.original) for d in letters] == [
        ("invalid_schema", ALERTS.name, b'{"alert_id": "no rule"}')
    ]
    assert len(run.sent(EVENT_ALERTS.name)) == 1


def test_events_run_after_the_rules_in_both_runners():
    assert STAGES[-1] is EVENTS and STAGES[-2].service == EVENTS.service == "alerts"
    assert EVENTS.consumes is ALERTS and EVENTS.table and not EVENTS.isolated
