"""Tests for services/alerts/events/keys.py: party keys and article time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.alerts.events.keys import article_time, party_key, same_town
from shared.schemas import FrameParty
from tests.factories import T0
from tests.factories import troop_alert as make_alert


@pytest.mark.parametrize(
    ("party", "key"),
    [
        (FrameParty(text="Russian", country="RU"), "RU"),
        (FrameParty(text="Moscow", country="ru"), "RU"),
        (FrameParty(text="The Wagner Group’s"), "wagner group"),
        (FrameParty(text="WAGNER  group"), "wagner group"),
        (FrameParty(text="Ｈａｍａｓ"), "hamas"),  # full-width letters (NFKC)
        (FrameParty(text=" ... "), None),
        # an institution every country has, with no country, names no one
        (FrameParty(text="the Army"), None),
        (FrameParty(text="Government"), None),
        (FrameParty(text="Army", country="BR"), "BR"),
        (None, None),
    ],
)
def test_party_key_normalises_words_and_prefers_the_country(party, key):
    assert party_key(party) == key


def test_without_a_publication_date_the_ingestion_time_counts_so_a_replay_keeps_its_time():
    ingested = T0 + timedelta(days=2)
    first = make_alert(published=False).model_copy(
        update={"ingested_at": ingested, "fired_at": ingested + timedelta(minutes=1)}
    )
    replayed = first.model_copy(
        update={"fired_at": ingested + timedelta(days=20)}
    )  # a replay much later
    assert article_time(first) == article_time(replayed) == ingested
    # published_at still comes first, and no time after firing is believed
    assert article_time(first.model_copy(update={"published_at": T0})) == T0
    assert (
        article_time(first.model_copy(update={"ingested_at": ingested + timedelta(days=9)}))
        == first.fired_at
    )


def test_a_naive_time_is_utc():
    alert = make_alert(published=False).model_copy(update={"fired_at": datetime(2019, 3, 25, 12)})
    assert article_time(alert) == T0


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("gaza", "gaza strip", True),
        ("basra province", "basra", True),
        ("darfur", "north darfur", True),
        ("najaf", "najaf", True),
        ("najaf", "fallujah", False),
        ("gaza city", "gaza strip", False),  # a word shared is not enough
        ("west bank", "gaza strip", False),
    ],
)
def test_a_town_is_the_same_as_one_whose_words_hold_all_of_its_own(one, other, same):
    assert same_town(one, other) is same and same_town(other, one) is same
