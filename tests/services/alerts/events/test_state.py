"""Tests for services/alerts/events/state.py.

The typed records read and write the store's JSON values unchanged.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from services.alerts.events.fold import EventFolder
from services.alerts.events.state import Bucket, BucketEntry, EventKey, EventState, EventStore
from shared.schemas import event_record
from tests.factories import SYRIA
from tests.factories import troop_alert as make_alert

WINDOW = timedelta(days=7)


def _folded_store() -> dict[str, Any]:
    store: dict[str, Any] = {}
    folder = EventFolder(store, window=WINDOW)
    for alert in [
        make_alert(),
        make_alert(count=100, equipment=("Il-62",), day=1),
        make_alert(place=None, day=2),
        make_alert(action="withdraw", modality="demand", day=3),
        make_alert(framed=False, day=4),
        make_alert(place=SYRIA, day=5),
    ]:
        folder.fold(alert)
    return json.loads(json.dumps(store))  # what a changelog gives back


def test_every_stored_value_reads_and_writes_back_byte_identical():
    store = _folded_store()
    for key, value in store.items():
        if key.startswith("b:"):
            again = Bucket.from_json(value).to_json()
        elif key.startswith("e:"):
            again = EventState.from_json(value).to_json()
        else:
            assert key.startswith("a:")
            again = event_record(value).model_dump(mode="json")
        assert json.dumps(again) == json.dumps(value), key


def test_the_store_layout_is_the_documented_one():
    store = _folded_store()
    bucket = store["b:troop_movement|in"]
    assert list(bucket) == ["w", "e"]
    assert all(isinstance(entry, list) and len(entry) == 5 for entry in bucket["e"].values())
    event = store["e:" + next(iter(bucket["e"]))]
    assert list(event) == [
        "key",
        "frame",
        "pk",
        "first",
        "last",
        "reports",
        "mentions",
        "articles",
        "sources",
        "counts",
        "recent",
        "story",
    ]
    assert event["key"] == ["troop_movement", "in", "RU", "VE"]
    assert event["frame"]["count"] == 100 and event["frame"]["equipment"] == ["Il-62"]
    assert all(isinstance(report, list) and len(report) == 3 for report in event["recent"])


def test_an_unframed_alert_is_keyed_by_its_own_id():
    store = _folded_store()
    (unframed,) = [
        EventState.from_json(v)
        for k, v in store.items()
        if k.startswith("e:") and v["key"][1] == "-"
    ]
    assert unframed.key.actor is None and unframed.frame is None
    assert unframed.key.place == unframed.recent[0].alert_id


def test_the_event_store_assigns_fresh_values_and_pops_what_it_removes():
    raw: dict[str, Any] = {}
    events = EventStore(raw)
    bucket = Bucket(10, {"e1": BucketEntry("RU", "VE", 10, town="caracas")})
    events.put_bucket("r|in", bucket)
    assert raw == {"b:r|in": {"w": 10, "e": {"e1": ["RU", "VE", 10, None, "caracas"]}}}
    assert events.bucket("r|in") == bucket and events.bucket("r|out") is None
    # an entry written before events knew their story and town reads on without them
    raw["b:r|old"] = {"w": 10, "e": {"e1": ["RU", "VE", 10]}}
    assert events.bucket("r|old") == Bucket(10, {"e1": BucketEntry("RU", "VE", 10)})
    state = EventState(EventKey("r", "in", "RU", None), None, None, 1, 1, 1, 0, 1, [], [], [])
    events.put_event("e1", state)
    assert events.event("e1") == state
    assert events.pop_event("e1") == state and events.pop_event("e1") is None
    assert events.record("x") is None
    events.pop_record("x")  # nothing stored: nothing happens
