"""Tests for services/alerts/events/fold.py.

Alerts folded into events (new, update, mention), replays, eviction; the seeds through the
real pipeline (slow).
"""

from __future__ import annotations

import copy
import json
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from services.alerts.events.fold import EventFolder, fold
from services.alerts.events.keys import article_time, bucket_key
from shared.schemas import Alert, EventAlert, Frame, FrameParty
from tests.factories import CARACAS, MARACAIBO, RU, SYRIA, T0, VE
from tests.factories import troop_alert as make_alert

from ..conftest import SEEDS

WINDOW = timedelta(days=7)


@pytest.fixture
def folder() -> EventFolder:
    return EventFolder({}, window=WINDOW)


# ------------------------------------------------------------------ new, update, mention


def test_first_report_of_a_movement_is_a_new_event(folder):
    out = folder.fold(make_alert(count=100, equipment=("Il-62",)))
    assert out.status == "new"
    assert out.added == []
    assert uuid.UUID(out.event_id).version == 5
    assert out.event_key == "troop_movement|in|RU|VE"
    assert out.frame is not None and out.frame.count == 100 and out.frame.equipment == ["Il-62"]
    assert (out.reports, out.mentions, out.articles) == (1, 0, 1)
    assert out.first_seen == out.last_seen == T0


def test_a_restatement_is_a_mention_counted_on_the_event(folder):
    first = folder.fold(make_alert(count=100, source="reuters.com"))
    again = folder.fold(make_alert(count=100, source="theguardian.com", day=1))
    assert again.status == "mention" and again.added == []
    assert again.event_id == first.event_id
    assert (again.reports, again.mentions, again.articles) == (2, 1, 2)
    assert again.sources == ["reuters.com", "theguardian.com"]
    assert again.last_seen == T0 + timedelta(days=1)
    assert again.evidence != first.evidence  # the record carries the report that gave it


def test_two_sentences_of_one_article_count_one_article(folder):
    folder.fold(make_alert(article_id="a"))
    out = folder.fold(make_alert(article_id="a"))
    assert (out.reports, out.articles) == (2, 1)


@pytest.mark.parametrize(
    ("before", "after", "fact"),
    [
        ({}, {"count": 100}, "count"),  # a count where there was none
        ({"count": 100}, {"count": 150}, "count"),  # a different count
        ({"equipment": ("Il-62",)}, {"equipment": ("Il-62", "An-124")}, "equipment"),
        ({"modality": "plan"}, {"modality": "fact"}, "modality"),
        ({"modality": "demand"}, {"modality": "fact"}, "modality"),
        ({"modality": "offer"}, {"modality": "fact"}, "modality"),
        ({"place": VE}, {"place": CARACAS}, "place"),  # a city inside the event's country
    ],
)
def test_a_report_that_adds_a_fact_is_an_update(folder, before, after, fact):
    first = folder.fold(make_alert(**before))
    out = folder.fold(make_alert(**after, day=1))
    assert out.status == "update"
    assert out.added == [fact]
    assert out.event_id == first.event_id
    assert out.mentions == 0


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({"count": 100}, {"count": 100}),
        ({"count": 100}, {}),  # saying no number adds none
        ({"equipment": ("Il-62", "An-124")}, {"equipment": ("IL-62",)}),
        ({"modality": "fact"}, {"modality": "plan"}),  # a plan after the fact adds nothing
        ({"modality": "plan"}, {"modality": "demand"}),
        ({"place": CARACAS}, {"place": VE}),  # the country after the city is less precise
    ],
)
def test_a_report_that_adds_nothing_is_a_mention(folder, before, after):
    folder.fold(make_alert(**before))
    assert folder.fold(make_alert(**after, day=1)).status == "mention"


def test_a_count_reported_before_is_not_news_again(folder):
    folder.fold(make_alert(count=100))
    assert folder.fold(make_alert(count=150)).added == ["count"]
    back = folder.fold(make_alert(count=100))
    assert back.status == "mention"
    assert back.frame is not None and back.frame.count == 150  # the latest new count stands


def test_an_update_merges_the_facts_of_every_report(folder):
    folder.fold(make_alert(modality="plan", equipment=("Il-62",)))
    out = folder.fold(make_alert(place=CARACAS, count=100, equipment=("An-124",), modality="fact"))
    assert out.status == "update"
    assert out.added == ["place", "count", "equipment", "modality"]
    assert out.frame == Frame(
        actor=FrameParty(**RU),
        action="deploy",  # the first report's words stay
        place=FrameParty(**CARACAS),
        count=100,
        equipment=["Il-62", "An-124"],
        modality="fact",
        trigger="sent",
        force="troops",
    )
    assert out.alert_frame is not None and out.alert_frame.equipment == ["An-124"]


# ------------------------------------------------------------------ the key


def test_sending_arriving_and_reinforcing_are_one_movement(folder):
    sent = folder.fold(make_alert(action="deploy"))
    arrived = folder.fold(make_alert(action="arrive", place=CARACAS))
    more = folder.fold(make_alert(action="reinforce"))
    assert sent.event_id == arrived.event_id == more.event_id
    assert bucket_key(make_alert(action="arrive")) == "troop_movement|in"


def test_a_withdrawal_is_another_event_than_the_deployment(folder):
    sent = folder.fold(make_alert(action="deploy"))
    out = folder.fold(make_alert(action="withdraw", modality="demand"))
    assert out.status == "new" and out.event_id != sent.event_id
    assert out.event_key == "troop_movement|out|RU|VE"


@pytest.mark.parametrize(
    "other",
    [
        {"actor": {"text": "American", "country": "US"}},
        {"place": SYRIA},
        {"rule_id": "naval_movement"},
        {"action": "mobilise"},
    ],
)
def test_another_actor_place_rule_or_direction_is_another_event(folder, other):
    first = folder.fold(make_alert())
    out = folder.fold(make_alert(**other))
    assert out.status == "new" and out.event_id != first.event_id


def test_actor_and_place_are_keyed_by_country_before_words(folder):
    first = folder.fold(make_alert(actor={"text": "Russia", "country": "RU"}))
    moscow = folder.fold(make_alert(actor={"text": "Moscow", "country": "ru"}))
    assert moscow.event_id == first.event_id and moscow.status == "mention"


def test_actors_without_a_country_match_on_normalised_words(folder):
    first = folder.fold(make_alert(actor={"text": "the Wagner Group"}, place=None))
    out = folder.fold(make_alert(actor={"text": "Wagner group's"}, place=None))
    assert out.event_id == first.event_id
    assert first.event_key == "troop_movement|in|wagner group|?"


# ------------------------------------------------------------------ missing actor or place


def test_a_report_without_a_place_joins_the_only_open_event_of_its_actor(folder):
    first = folder.fold(make_alert())
    out = folder.fold(make_alert(place=None, modality="plan"))
    assert out.event_id == first.event_id and out.status == "mention"


def test_a_report_without_a_place_opens_its_own_event_when_two_could_be_meant(folder):
    venezuela = folder.fold(make_alert())
    syria = folder.fold(make_alert(place=SYRIA))
    out = folder.fold(make_alert(place=None))
    assert out.status == "new"
    assert out.event_id not in {venezuela.event_id, syria.event_id}
    assert out.event_key == "troop_movement|in|RU|?"
    # and the next report without a place joins that one: it is its exact key
    assert folder.fold(make_alert(place=None)).event_id == out.event_id


def test_a_report_without_an_actor_joins_the_only_open_event_of_its_place(folder):
    first = folder.fold(make_alert())
    folder.fold(make_alert(actor={"text": "American", "country": "US"}, place=SYRIA))
    out = folder.fold(make_alert(actor=None, action="reinforce", count=100))
    assert out.event_id == first.event_id
    assert out.status == "update" and out.added == ["count"]


def test_an_event_without_a_place_gets_it_from_a_later_report(folder):
    first = folder.fold(make_alert(place=None))
    out = folder.fold(make_alert(place=VE))
    assert out.event_id == first.event_id
    assert out.status == "update" and out.added == ["place"]
    assert out.event_key == "troop_movement|in|RU|VE"
    # the event now has the place: a report naming another country is another event
    assert folder.fold(make_alert(place=SYRIA)).status == "new"


def test_an_event_without_an_actor_gets_it_from_a_later_report(folder):
    first = folder.fold(make_alert(actor=None))
    out = folder.fold(make_alert())
    assert out.event_id == first.event_id
    assert out.added == ["actor"] and out.event_key == "troop_movement|in|RU|VE"


def test_an_alert_without_a_frame_is_an_event_of_its_own(folder):
    one = folder.fold(make_alert(framed=False, rule_id="s400"))
    two = folder.fold(make_alert(framed=False, rule_id="s400"))
    assert one.status == two.status == "new"
    assert one.event_id != two.event_id
    assert one.frame is None
    assert bucket_key(make_alert(framed=False, rule_id="s400")) == "s400|-"


# ------------------------------------------------------------------ replays and ids


def test_a_replayed_alert_gives_the_same_record_and_counts_nothing(folder):
    alerts = [make_alert(), make_alert(count=100), make_alert(place=SYRIA), make_alert()]
    first = [folder.fold(a) for a in alerts]
    before = copy.deepcopy(folder.store)
    again = [folder.fold(a) for a in reversed(alerts)]
    assert again == list(reversed(first))
    assert folder.store == before
    assert folder.fold(make_alert()).reports == 4  # three of Venezuela before it, none twice


def test_a_replay_gives_its_first_record_even_after_later_reports(folder):
    alert = make_alert()
    first = folder.fold(alert)
    folder.fold(make_alert(count=100))
    assert folder.fold(alert) == first
    assert folder.fold(alert).status == "new"


def test_event_ids_are_stable_across_stores(folder):
    alerts = [make_alert(), make_alert(place=None), make_alert(action="withdraw")]
    ids = [folder.fold(a).event_id for a in alerts]
    assert [fold({}, a, window=WINDOW).event_id for a in alerts[:1]] == ids[:1]
    other = EventFolder({}, window=WINDOW)
    assert [other.fold(a).event_id for a in alerts] == ids


def test_the_state_is_plain_json_and_a_restarted_folder_goes_on_from_it():
    alerts = [make_alert(day=d, count=c) for d, c in [(0, None), (1, 100), (2, 100), (9, None)]]
    whole = EventFolder({}, window=WINDOW)
    straight = [whole.fold(a) for a in alerts]

    store: dict[str, Any] = {}
    first = EventFolder(store, window=WINDOW)
    resumed = [first.fold(a) for a in alerts[:2]]
    restored = json.loads(json.dumps(store))  # what a changelog gives back
    resumed += [EventFolder(restored, window=WINDOW).fold(a) for a in alerts[2:]]
    assert resumed == straight


def test_each_bucket_reads_and_writes_only_its_own_keys():
    # As after repartitioning by bucket_key: each bucket in a store of its own (one worker
    # each) decides exactly as all buckets in one store.
    alerts = [
        make_alert(),
        make_alert(action="withdraw", modality="demand", day=1),
        make_alert(action="arrive", count=100, day=2),
        make_alert(framed=False, day=3),
        make_alert(action="withdraw", modality="fact", day=20),
        make_alert(action="deploy", day=4),
    ]
    shared = EventFolder({}, window=WINDOW)
    together = [shared.fold(a) for a in alerts]
    apart: dict[str, EventFolder] = {}
    separately = [
        apart.setdefault(bucket_key(a), EventFolder({}, window=WINDOW)).fold(a) for a in alerts
    ]
    assert separately == together
    assert len(apart) == 3
    # a report 20 days later in "out" did not close the deployment in "in"
    assert together[-1].status == "mention"


# ------------------------------------------------------------------ window and eviction


def test_an_event_takes_reports_until_none_has_come_for_the_window(folder):
    first = folder.fold(make_alert())
    for day in (6, 12, 18):  # each within a window of the previous report
        assert folder.fold(make_alert(day=day)).event_id == first.event_id
    late = folder.fold(make_alert(day=18 + 7 + 1))
    assert late.status == "new" and late.event_id != first.event_id
    assert folder.evicted == 1


def test_an_evicted_event_leaves_nothing_in_the_store(folder):
    old = [make_alert(), make_alert(count=100, day=1)]
    ids = {folder.fold(a).event_id for a in old}
    folder.fold(make_alert(place=SYRIA, day=10))
    assert folder.evicted == 1
    kept = json.dumps(folder.store)
    assert not any(i in kept for i in ids)
    assert not any(a.alert_id in kept for a in old)
    # its alerts replayed now are decided again: their event is gone
    assert folder.fold(old[0]).status == "new"


def test_the_window_is_article_time_published_else_fired(folder):
    published = make_alert(day=0)
    assert article_time(published) == T0
    unpublished = make_alert(day=3, published=False)
    assert article_time(unpublished) == T0 + timedelta(days=3)
    first = folder.fold(published)
    # published 8 days later but fired within the hour of the first: the article time counts
    late = make_alert(day=8).model_copy(update={"fired_at": T0 + timedelta(hours=2)})
    assert article_time(late) == T0 + timedelta(hours=2)  # a date after firing is not believed
    assert folder.fold(late).event_id == first.event_id
    assert folder.fold(make_alert(day=8)).event_id != first.event_id


def test_a_late_report_joins_its_open_event(folder):
    first = folder.fold(make_alert(day=30))
    old = folder.fold(make_alert(day=0, count=100))
    assert old.event_id == first.event_id and old.status == "update"
    assert old.first_seen == T0 and old.last_seen == T0 + timedelta(days=30)


def test_an_event_opened_by_a_late_report_lives_a_window_from_now(folder):
    folder.fold(make_alert(day=30))
    late = folder.fold(make_alert(day=0, place=SYRIA))  # a month old when it arrives
    assert late.status == "new"
    folder.fold(make_alert(day=31))  # the stream goes on: a window from day 0 is long past
    assert folder.evicted == 0
    again = folder.fold(make_alert(day=1, place=SYRIA))
    assert again.event_id == late.event_id and again.status == "mention"


def test_an_event_reported_for_weeks_keeps_only_the_windows_reports(folder):
    alerts = [make_alert(day=d) for d in range(30)]
    outs = [folder.fold(a) for a in alerts]
    assert len({o.event_id for o in outs}) == 1
    assert outs[-1].reports == 30 and outs[-1].articles == 30
    state = folder.store["e:" + outs[0].event_id]
    assert len(state["recent"]) == 8  # days 22..29: the reports within the window of day 29
    assert sum(k.startswith("a:") for k in folder.store) == 8


def test_the_window_must_be_positive():
    with pytest.raises(ValueError, match="window"):
        EventFolder({}, window=timedelta(0))


# ------------------------------------------------------------------ the seeds (slow)


@pytest.fixture(scope="module")
def seed_alerts() -> list[Alert]:
    """The seeds' alerts, in order, from the real pipeline cores as ``newswatch process`` runs them."""
    from cli.inputs import read_inputs
    from cli.pipeline import LocalPipeline
    from services.stages import STAGES

    pipeline = LocalPipeline(STAGES)
    alerts = []
    for _origin, value in read_inputs([str(SEEDS)]):
        for record in pipeline.feed(value):
            if isinstance(record.value, Alert):
                alerts.append(record.value)
    return alerts


@pytest.mark.slow
def test_the_seeds_raise_the_caracas_arrival_once_and_fold_every_alert(seed_alerts):
    folder = EventFolder({}, window=WINDOW)
    outs: list[EventAlert] = [folder.fold(a) for a in seed_alerts]
    statuses = Counter(o.status for o in outs)
    print(f"\nseeds: {len(seed_alerts)} alerts -> {dict(statuses)}")
    for alert, out in zip(seed_alerts, outs, strict=True):
        print(f"  {out.status:7} {out.event_key:28} {out.added} {alert.evidence[:70]!r}")

    # none lost: one record per alert, each for its own alert
    assert [o.alert_id for o in outs] == [a.alert_id for a in seed_alerts]
    assert len(seed_alerts) >= 10  # the five seed files about one story raise many alerts
    assert 1 <= statuses["new"] <= 3
    # the Russian landing is one new event; the other new one is the withdrawal Trump demanded
    landing = [
        o for o in outs if o.status == "new" and o.event_key.startswith("troop_movement|in|")
    ]
    assert [o.event_key for o in landing] == ["troop_movement|in|RU|VE"]
    assert statuses["new"] + statuses["update"] + statuses["mention"] == len(seed_alerts)
    assert all(o.added for o in outs if o.status == "update")

    # each event's first record is its only "new"
    first_status = {}
    for o in outs:
        first_status.setdefault(o.event_id, o.status)
    assert set(first_status.values()) == {"new"}

    # the Russian arrival in Caracas (Il-62 and An-124, about 100 troops) is one event
    arrival = {
        o.event_id
        for a, o in zip(seed_alerts, outs, strict=True)
        if a.frame is not None and a.frame.action == "arrive"
    }
    assert len(arrival) == 1
    [event_id] = arrival
    last = [o for o in outs if o.event_id == event_id][-1]
    assert last.frame is not None
    assert last.frame.actor is not None and last.frame.actor.country == "RU"
    assert last.frame.place is not None and last.frame.place.country == "VE"
    assert last.frame.count == 100
    assert {"Il-62", "An-124"} <= set(last.frame.equipment)
    assert last.articles >= 4

    # the whole run replayed gives the same records and changes nothing
    before = copy.deepcopy(folder.store)
    assert [folder.fold(a) for a in seed_alerts] == outs
    assert folder.store == before


# ------------------------------------------------------------------ by meaning


def in_story(alert: Alert, story: str) -> Alert:
    return alert.model_copy(update={"story_id": story})


def test_alerts_without_a_frame_telling_one_story_are_one_event(folder):
    one = folder.fold(in_story(make_alert(framed=False, rule_id="naval"), "carrier"))
    two = folder.fold(in_story(make_alert(framed=False, rule_id="naval"), "carrier"))
    other = folder.fold(in_story(make_alert(framed=False, rule_id="naval"), "elsewhere"))
    assert (one.status, two.status, other.status) == ("new", "mention", "new")
    assert two.event_id == one.event_id != other.event_id


def test_a_later_sentence_of_an_article_joins_the_event_the_article_reached(folder):
    folder.fold(make_alert(place=SYRIA, article_id="elsewhere"))
    venezuela = folder.fold(make_alert(article_id="caracas"))
    # names neither actor nor place: two events could be meant, its article says which
    out = folder.fold(make_alert(actor=None, place=None, article_id="caracas"))
    assert out.event_id == venezuela.event_id and out.status == "mention"
    # from another article, the same sentence could be either: an event of its own
    alone = folder.fold(make_alert(actor=None, place=None, article_id="third"))
    assert alone.status == "new"


def test_of_two_events_a_report_joins_the_one_sharing_the_most_it_names(folder):
    syria = folder.fold(make_alert(actor=None, place=SYRIA, article_id="a"))  # ?|SY
    russian = folder.fold(make_alert(article_id="b"))  # RU|VE
    assert syria.status == russian.status == "new"
    # RU|? agrees with RU|VE (the actor) and with ?|SY (nothing known differs): RU|VE is closer
    out = folder.fold(make_alert(place=None, article_id="c"))
    assert out.event_id == russian.event_id


def test_an_alliance_and_a_contingent_of_one_of_its_members_are_one_side(folder):
    darfur = {"text": "Darfur", "country": "SD"}
    au = folder.fold(make_alert(actor={"text": "African Union"}, place=darfur, article_id="a"))
    nigerian = folder.fold(make_alert(actor={"text": "Nigerian", "country": "NG"}, place=darfur))
    assert nigerian.event_id == au.event_id and nigerian.status == "mention"
    # a state outside the alliance is another side
    us = folder.fold(make_alert(actor={"text": "American", "country": "US"}, place=darfur))
    assert us.status == "new"


def test_an_undated_report_of_a_story_the_bucket_holds_is_read_at_the_buckets_time(folder):
    # the dated report first, years before the undated one was read
    dated = folder.fold(in_story(make_alert(day=0), "landing"))
    undated = in_story(make_alert(day=400, published=False), "landing")
    out = folder.fold(undated)
    assert out.event_id == dated.event_id and out.status == "mention"
    # of another story, an undated report keeps the time it was read: the window has passed
    other = folder.fold(in_story(make_alert(day=400, published=False), "another"))
    assert other.status == "new"


def test_two_towns_of_one_country_are_two_places_and_a_town_refines_its_country(folder):
    country = folder.fold(make_alert(place=VE))
    caracas = folder.fold(make_alert(place=CARACAS))
    assert caracas.event_id == country.event_id and caracas.added == ["place"]
    # the event is now Caracas's: Maracaibo, in the same country, is another place
    maracaibo = folder.fold(make_alert(place=MARACAIBO))
    assert maracaibo.status == "new"
    # and each town's later reports find their own event, a report of the country the first
    assert folder.fold(make_alert(place=MARACAIBO)).event_id == maracaibo.event_id
    assert folder.fold(make_alert(place=CARACAS)).event_id == caracas.event_id
    assert folder.fold(make_alert(place=VE)).event_id == caracas.event_id


def test_a_town_and_a_longer_name_of_it_are_one_place(folder):
    gaza, strip, bank = (
        {"text": t, "country": "PS"} for t in ("Gaza", "the Gaza Strip", "the West Bank")
    )
    israeli = {"text": "Israeli", "country": "IL"}
    first = folder.fold(make_alert(actor=israeli, place=gaza, action="withdraw"))
    again = folder.fold(make_alert(actor=israeli, place=strip, action="withdraw"))
    assert again.event_id == first.event_id and again.status == "mention"
    other = folder.fold(make_alert(actor=israeli, place=bank, action="withdraw"))
    assert other.status == "new"


def test_a_report_naming_nothing_does_not_join_an_event_of_another_story(folder):
    russian = folder.fold(in_story(make_alert(), "landing"))
    # "troops arrived" agrees with the one open event but says nothing of it
    elsewhere = folder.fold(in_story(make_alert(actor=None, place=None), "other"))
    assert elsewhere.status == "new" and elsewhere.event_id != russian.event_id
    # told in the event's story, it joins it
    same = folder.fold(in_story(make_alert(actor=None, place=None), "landing"))
    assert same.event_id == russian.event_id


def test_a_report_sharing_no_known_part_joins_only_by_its_story(folder):
    russian = folder.fold(in_story(make_alert(place=None), "landing"))  # RU|?
    # ?|SY agrees with RU|? (nothing known differs) but shares nothing with it
    syria = folder.fold(in_story(make_alert(actor=None, place=SYRIA), "other"))
    assert syria.status == "new" and syria.event_id != russian.event_id


def test_an_article_naming_a_town_after_its_country_stays_one_event(folder):
    faya = {"text": "Faya-Largeau"}  # a town the gazetteer does not place
    chad = folder.fold(make_alert(place={"text": "Chad", "country": "TD"}, article_id="w1"))
    town = folder.fold(make_alert(place=faya, article_id="w1"))
    assert town.event_id == chad.event_id and town.status == "mention"
    # from another article the same words name another place than Chad
    assert folder.fold(make_alert(place=faya, article_id="w2")).status == "new"
    # and in one article two countries are still two places
    assert folder.fold(make_alert(place=SYRIA, article_id="w1")).status == "new"
