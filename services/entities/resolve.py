"""Resolve an article's mentions: vessels merged, places, countries, names."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from services.entities.gazetteer import DOMAIN_LABELS, Gazetteer
from services.entities.names import canonicalise, tidy
from services.entities.personnel import LABEL as PERSONNEL
from services.entities.place_data import default_place_table
from services.entities.places import PEOPLE_LABELS, PLACE_LABELS, SEAT_LABELS, Place, name_key
from shared.schemas.articles import Entity
from shared.text import MAX_RUN

# Labels of the model that name nothing an analyst would look up; dropped to keep messages small.
_SKIPPED_LABELS = frozenset({"CARDINAL", "ORDINAL", "QUANTITY", "PERCENT", "MONEY", "TIME"})
_FORCE_LABELS = frozenset({"ORG", "MILITARY_UNIT"})
_PERSON_LOOKALIKES = frozenset({"ORG", "GPE", "PRODUCT", "WORK_OF_ART", "FAC", "EVENT", "LAW"})


@dataclass(frozen=True, slots=True)
class Mention:
    """One entity of an article as spaCy found it, filled in by the resolution passes.

    Offsets are characters into the article's text with its title placed after it (see
    ``extract.TITLE_GAP``); the passes set ``canonical``, ``category``, ``place``, ``country``
    and may relabel a surname as ``PERSON``.
    """

    label: str
    ent_id: str  # the ruler's id (canonical name or generic class); for PERSONNEL its category
    start: int
    end: int
    text: str  # the article's text[start:end]
    count: int | None = None  # the number a PERSONNEL span states
    canonical: str | None = None
    category: str | None = None
    place: Place | None = None
    country: str | None = None

    def to_entity(self, sentence: int) -> Entity:
        """The mention as the schema's :class:`Entity`, in upstream sentence ``sentence``."""
        place = self.place
        return Entity(
            text=self.text,
            label=self.label,
            start=self.start,
            end=self.end,
            sentence=sentence,
            canonical=self.canonical,
            country=self.country,
            place_kind=place.kind if place else None,
            latitude=place.latitude if place else None,
            longitude=place.longitude if place else None,
            category=self.category,
            count=self.count,
        )


# A pass takes one article's mentions (sorted by start, then end), its text and the gazetteer.
Pass = Callable[[list[Mention], str, Gazetteer], list[Mention]]


def resolve_mentions(mentions: list[Mention], text: str, gazetteer: Gazetteer) -> list[Mention]:
    """Run :data:`PASSES` in order over one article's mentions, sorted by (start, end)."""
    for step in PASSES:
        mentions = step(mentions, text, gazetteer)
    return mentions


# --- the passes, in their order ---------------------------------------------------------------


def drop_unread(mentions: list[Mention], text: str, gazetteer: Gazetteer) -> list[Mention]:
    """Drop skipped labels, blank text, masked runs and a domain name after a hyphen."""
    return [
        m
        for m in mentions
        if m.label not in _SKIPPED_LABELS
        and m.text.strip()
        and not _masked(text, m.start)
        # "Counter-IED", "counter-drone": a weapon's name after a hyphen modifies another word.
        and not (m.label in DOMAIN_LABELS and m.start > 0 and text[m.start - 1] == "-")
    ]


def merge_named_vessels(mentions: list[Mention], text: str, gazetteer: Gazetteer) -> list[Mention]:
    """Merge a ship's class noun with the name right after it ("the frigate FS Forbin").

    One entity, as re3d marks it, named after the ship (its ``canonical``), of the noun's class.
    """
    out: list[Mention] = []
    for m in mentions:
        prev = out[-1] if out else None
        if (
            prev is not None
            and m.label == prev.label == "VESSEL"
            and prev.ent_id in gazetteer.generic_ids
            and m.ent_id not in gazetteer.generic_ids
            and prev.end < m.start
            and not text[prev.end : m.start].strip()
        ):
            out[-1] = Mention(
                "VESSEL",
                m.ent_id,
                prev.start,
                m.end,
                text[prev.start : m.end],
                canonical=m.ent_id or tidy(m.text),
                category=gazetteer.categories.get(prev.ent_id),
            )
        else:
            out.append(m)
    return out


def resolve_places(mentions: list[Mention], text: str, gazetteer: Gazetteer) -> list[Mention]:
    """Give the GPE/LOC/FAC/NORP/ORG mentions their place and country, the article's together.

    An ambiguous name resolves by the article's other places (see places.py). Before the
    relabelling of surnames: a place is resolved under the label the NER gave it.
    """
    labels = PLACE_LABELS | PEOPLE_LABELS | SEAT_LABELS
    indices = [i for i, m in enumerate(mentions) if m.label in labels]
    if not indices:
        return mentions
    table = default_place_table()
    resolved = table.resolve_article([(mentions[i].text, mentions[i].label) for i in indices])
    out = list(mentions)
    for i, place in zip(indices, resolved, strict=True):
        if place is not None:
            out[i] = dataclasses.replace(out[i], place=place, country=place.country)
    return out


def assign_personnel_countries(
    mentions: list[Mention], text: str, gazetteer: Gazetteer
) -> list[Mention]:
    """A PERSONNEL span takes the one country of the places named inside it.

    "Russian servicemen", "U.S. troops": when exactly one country is named there.
    """
    placed = [m for m in mentions if m.place is not None]
    out = list(mentions)
    for i, m in enumerate(mentions):
        if m.label != PERSONNEL or m.place is not None:
            continue
        inside = {
            o.place.country for o in placed if o.place and m.start <= o.start and o.end <= m.end
        }
        if len(inside) == 1:
            out[i] = dataclasses.replace(m, country=next(iter(inside)))
    return out


def assign_force_countries(
    mentions: list[Mention], text: str, gazetteer: Gazetteer
) -> list[Mention]:
    """An ORG or unit named as one people's or country's forces takes that country.

    "Afghan Army", "Israeli Forces", "Iraqi National Guardsmen": one country, or none (never a
    guess). A mention that already has a place keeps that place's country.
    """
    table = default_place_table()
    out = list(mentions)
    for i, m in enumerate(mentions):
        if m.label not in _FORCE_LABELS or m.place is not None:
            continue
        if m.ent_id in gazetteer.unit_countries:  # a named unit of one country ("Black Watch")
            out[i] = dataclasses.replace(m, country=gazetteer.unit_countries[m.ent_id])
            continue
        words = name_key(m.text).split()
        for cut in range(1, len(words)):
            if " ".join(words[cut:]) not in gazetteer.national_forces:
                continue
            readings = table.readings(" ".join(words[:cut]), "NORP")
            if readings:
                countries = {r.country for r in readings}
                if len(countries) == 1:
                    out[i] = dataclasses.replace(m, country=countries.pop())
                break
    return out


def name_domain_entities(mentions: list[Mention], text: str, gazetteer: Gazetteer) -> list[Mention]:
    """Domain mentions: the ruler's id (else the tidied text) and the gazetteer's category."""
    return [
        dataclasses.replace(
            m,
            canonical=m.ent_id or tidy(m.text),
            category=gazetteer.categories.get(m.ent_id) or _unit_kind(m.text, m.label, gazetteer),
        )
        # A merged vessel is named already (merge_named_vessels).
        if m.label in DOMAIN_LABELS and m.canonical is None
        else m
        for m in mentions
    ]


def name_personnel(mentions: list[Mention], text: str, gazetteer: Gazetteer) -> list[Mention]:
    """PERSONNEL mentions: their category ("soldiers", "battalion") is their canonical name."""
    return [
        dataclasses.replace(m, canonical=m.ent_id or None, category=m.ent_id or None)
        if m.label == PERSONNEL
        else m
        for m in mentions
    ]


def name_people(mentions: list[Mention], text: str, gazetteer: Gazetteer) -> list[Mention]:
    """PERSON mentions, and surnames the NER took for something else, named in full.

    The small model often tags a bare surname as ORG ("Trump", "Maduro", "Zakharova") when the
    same article names the person in full: trust the full name.
    """
    surnames = _surname_index(mentions)
    out: list[Mention] = []
    for m in mentions:
        tidied = tidy(m.text)
        if m.label == "PERSON" or (m.label in _PERSON_LOOKALIKES and tidied in surnames):
            m = dataclasses.replace(m, label="PERSON", canonical=surnames.get(tidied, tidied))
        out.append(m)
    return out


def name_others(mentions: list[Mention], text: str, gazetteer: Gazetteer) -> list[Mention]:
    """The NER's other mentions: the gazetteer's canonical name, else the tidied text."""
    named = DOMAIN_LABELS | {PERSONNEL, "PERSON"}
    return [
        m
        if m.label in named
        else dataclasses.replace(m, canonical=canonicalise(m.text, m.label, gazetteer.canonical))
        for m in mentions
    ]


# In this order: the places are resolved under the NER's labels, before name_people relabels
# surnames; the countries of PERSONNEL spans read the places; the names come last.
PASSES: tuple[Pass, ...] = (
    drop_unread,
    merge_named_vessels,
    resolve_places,
    assign_personnel_countries,
    assign_force_countries,
    name_domain_entities,
    name_personnel,
    name_people,
    name_others,
)


# --- helpers ---------------------------------------------------------------------------------


def _unit_kind(text: str, label: str, gazetteer: Gazetteer) -> str | None:
    # "2nd Battalion" -> "battalion": numbered formations matched by the gazetteer's patterns.
    if label != "MILITARY_UNIT":
        return None
    words = tidy(text).split()
    if words and words[-1] in gazetteer.unit_abbreviations:
        return gazetteer.unit_abbreviations[words[-1]]
    last = words[-1].lower() if words else ""
    return last if last in gazetteer.unit_kinds else None


def _masked(text: str, start: int) -> bool:
    # Whether the entity starts inside a whitespace-free run longer than MAX_RUN (which the
    # extraction masked before spaCy: see shared.text.mask_long_runs).
    left = start
    while left > 0 and not text[left - 1].isspace() and start - left <= MAX_RUN:
        left -= 1
    right = start
    while right < len(text) and not text[right].isspace() and right - left <= MAX_RUN:
        right += 1
    return right - left > MAX_RUN


def _surname_index(mentions: list[Mention]) -> dict[str, str]:
    # Within one article "Maduro" is the "Nicolas Maduro" named earlier or later, when exactly one
    # longer PERSON ends with that word: cheap, and it groups most repeat mentions.
    full_names: dict[str, set[str]] = {}
    for m in mentions:
        if m.label == "PERSON":
            name = tidy(m.text)
            parts = name.split()
            if len(parts) > 1:
                full_names.setdefault(parts[-1], set()).add(name)
    return {last: next(iter(names)) for last, names in full_names.items() if len(names) == 1}
