"""How an alert is keyed and timed for the events fold.

Party keys, the bucket, article time.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from functools import cache

from shared.schemas import Alert, FrameParty, PlaceKind


def party_key(party: FrameParty | None) -> str | None:
    """The key of an actor or place: its country code when the entities stage gave one, else its words normalised.

    "Russia", "Russian", "Moscow" (RU) are one actor; "Caracas" and "Venezuela" (VE) one place.
    Words without a country are compared case- and width-folded, without a leading "the", a
    possessive or surrounding punctuation ("the Wagner Group's" -> "wagner group"). None when
    there is no party or no word.
    """
    if party is None:
        return None
    if party.country:
        return party.country.strip().upper()
    key = words_key(party.text)
    return None if key in GENERIC_PARTIES else key


# Words that name an institution every country has ("the Army", "the Government"): without a
# country they say whose force it is no more than a missing actor does, and as keys they would
# tie one country's army to another's.
GENERIC_PARTIES = frozenset(
    {"army", "navy", "air force", "military", "armed forces", "forces", "troops", "government"}
    | {"federal government", "defence ministry", "defense ministry", "ministry of defence"}
)


def is_country_key(key: str) -> bool:
    """Whether a party key is an ISO country code: ``party_key`` gives the code upper-cased, words case-folded."""
    return len(key) == 2 and key.isalpha() and key.isupper()


def words_key(text: str) -> str | None:
    """Words compared case- and width-folded, without a leading "the", a possessive or surrounding punctuation."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    words = text.split()
    if words and words[0] == "the":
        words = words[1:]
    text = " ".join(words)
    text = text.removesuffix("'s").strip(" .,;:'\"()[]-")
    return text or None


def town_key(party: FrameParty | None, kind: PlaceKind | None) -> str | None:
    """The key of a place inside a country (a city or region: "najaf"), None for a country or an unknown kind.

    Two towns of one country are two places (Najaf is not Fallujah, Gaza not the West Bank);
    a town and its country, or a town and an unknown place, may be one.
    """
    if party is None or kind not in ("city", "region"):
        return None
    return words_key(party.text)


def same_town(one: str, other: str) -> bool:
    """Two town keys of one place: the same words, or the words of one all in the other's.

    "Gaza" and "the Gaza Strip", "Basra" and "Basra province", "Darfur" and "North Darfur" name
    one place or one inside the other. A word shared is not enough: "Gaza City" and "the Gaza
    Strip" stay apart.
    """
    a, b = set(one.split()), set(other.split())
    return a <= b or b <= a


# Members of the alliances whose forces news names by the alliance ("AU troops", "NATO forces")
# while a report of the same movement names the member's contingent ("50 Nigerian soldiers").
# NATO and the EU by their treaties' lists (2024); the African Union: every African state.
_NATO = "AL BE BG CA HR CZ DK EE FI FR DE GR HU IS IT LV LT LU ME NL MK NO PL PT RO SK SI ES SE TR GB US"
_EU = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"


@cache
def alliances() -> dict[str, frozenset[str]]:
    """Party key of an alliance (``party_key`` of its canonical name) -> its members' ISO codes."""
    import countryinfo  # noqa: PLC0415 — its data takes a moment to load: only when needed

    africa = frozenset(
        info["ISO"]["alpha2"]
        for info in (c.info() for c in countryinfo.all_countries())
        if info.get("region") == "Africa" and info.get("ISO", {}).get("alpha2")
    )
    return {
        "african union": africa,
        "nato": frozenset(_NATO.split()),
        "european union": frozenset(_EU.split()),
    }


def same_side(a: str, b: str) -> bool:
    """Two actors' keys name the same side: equal, or an alliance and one of its members."""
    if a == b:
        return True
    members = alliances()
    return b in members.get(a, ()) or a in members.get(b, ())


def bucket_key(alert: Alert) -> str:
    """The partition key of an alert: its rule and the direction of its movement ("troop_movement|in").

    Every event an alert may join is in its bucket, including those it joins with its actor or
    place missing, so this is the key to repartition alerts by before ``EventFolder.fold``: the
    alert topic is keyed by it (``Alert.bucket``, ``shared.topics.record_key``).
    """
    return alert.bucket


def article_time(alert: Alert) -> datetime:
    """When the alert's article says it happened: ``published_at``, else when it was ingested, else when the alert fired (naive means UTC).

    A time after ``fired_at`` is bad metadata (nothing is published after we read it) and is
    taken as ``fired_at``: one wrong date must not move a bucket's clock into the future and evict
    its open events. Ingestion time, unlike ``fired_at``, is the same when the alert is replayed.
    """
    fired = _utc(alert.fired_at)
    when = alert.published_at or alert.ingested_at
    if when is None:
        return fired
    return min(_utc(when), fired)


def epoch(when: datetime) -> int:
    """Whole seconds since the epoch: the store's times."""
    return int(when.timestamp())


def from_epoch(t: int) -> datetime:
    """The UTC time of a store's time."""
    return datetime.fromtimestamp(t, UTC)


def place_kind(alert: Alert, place: FrameParty | None) -> PlaceKind | None:
    """What kind of place the frame's place is (country, region, city), from the alert's entities."""
    if place is None:
        return None
    for entity in alert.entities:
        if (
            entity.place_kind
            and place.text in (entity.text, entity.canonical)
            and (place.country is None or entity.country == place.country)
        ):
            return entity.place_kind
    return None


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when
