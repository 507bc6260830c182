"""The domain gazetteer: ruler patterns, canonical names, categories from YAML."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import spacy
import yaml
from spacy.language import Language

from services.entities.forms import expand_aliases, generic_forms
from services.entities.names import tidy

GAZETTEER_PATH = Path(__file__).with_name("gazetteer.yaml")
VOCABULARY_PATH = Path(__file__).with_name("vocabulary.yaml")
# The labels of the gazetteer's own entities (spaCy's NER gives the others).
DOMAIN_LABELS = frozenset({"AIRCRAFT", "WEAPON", "VESSEL", "VEHICLE", "MILITARY_UNIT"})
# Ruler label of the phrases that hold a military noun but name something else ("think tank"):
# matched so that they win over the noun alone, then dropped by the ruler.
NOT_DOMAIN = "NOT_DOMAIN"
ENT_ID_SEP = "||"  # spaCy's EntityRuler joins label and id with this in its match keys


@dataclass(frozen=True)
class Gazetteer:
    """The parsed gazetteer file: ruler patterns and canonical names for spaCy's own labels."""

    patterns: tuple[dict[str, Any], ...]
    canonical: dict[str, dict[str, str]]  # label -> lower-cased alias -> canonical name
    categories: dict[str, str]  # ruler id (canonical name or generic class) -> category
    unit_kinds: frozenset[str]  # last words that give a MILITARY_UNIT its category
    # Ruler key ("LABEL||id" or "LABEL") -> the token texts its matches must have exactly, for the
    # keys with cased forms ("Patriot missile", "IED", "shell"); a match of such a key in another
    # case is kept only if it is one of the key's case-insensitive forms.
    exact_case: dict[str, frozenset[tuple[str, ...]]]
    any_case: dict[str, frozenset[tuple[str, ...]]]
    generic_ids: frozenset[str]  # ruler ids of the vocabulary's generic classes ("frigate")
    # Ruler keys of the owned nouns ("ISIL vehicles"): the entity is the noun, the owner is left
    # to the NER (an ORG or NORP of its own).
    head_only: frozenset[str]
    # Names of a country's armed forces after its people or its name ("Afghan Army", "Israeli
    # Forces"), lower-cased: an ORG or MILITARY_UNIT named so takes that country.
    national_forces: frozenset[str] = frozenset()
    # Abbreviated unit kinds after an ordinal ("507th ARW" -> wing), as written.
    unit_abbreviations: dict[str, str] = field(default_factory=dict)
    # Named units of one country's forces ("Black Watch" -> GB): the entry's ``country``.
    unit_countries: dict[str, str] = field(default_factory=dict)


@dataclass
class _Patterns:
    """The ruler patterns as they are read, with the categories and case rules they bring."""

    patterns: list[dict[str, Any]] = field(default_factory=list)
    categories: dict[str, str] = field(default_factory=dict)
    exact: set[tuple[str, str]] = field(default_factory=set)  # (ruler key, phrase as written)


def load_gazetteer(
    path: Path | None = None,
    *,
    nlp: Language | None = None,
    vocabulary: Path | None = None,
) -> Gazetteer:
    """Read the gazetteer and vocabulary YAML files and expand them into EntityRuler patterns.

    Aliases become phrase patterns (matched on ``LOWER``); of the cased ones ("Patriot missile",
    "IED") the ruler keeps only the matches written so, compared token by token as ``nlp``'s own
    tokenizer (a blank English one by default) splits them. The vocabulary's generic nouns
    become ``LOWER`` phrase patterns too, each with its plural (``inflect``).
    """
    data = yaml.safe_load((path or GAZETTEER_PATH).read_text(encoding="utf-8"))
    vocab = yaml.safe_load((vocabulary or VOCABULARY_PATH).read_text(encoding="utf-8"))
    found = _Patterns()
    _add_entries(found, data)
    unit_abbreviations = {
        str(k): str(v) for k, v in (vocab.get("unit_abbreviations") or {}).items()
    }
    _add_unit_abbreviations(found, unit_abbreviations)
    owned = vocab.get("owned") or {}
    generic_ids = _add_generic(found, vocab)
    _add_not_military(found, vocab)
    canonical_names = _canonical_names(data)
    _add_aircraft_lists(found, vocab)
    exact_case, any_case = _case_rules(found, nlp if nlp is not None else _blank_english())
    return Gazetteer(
        tuple(found.patterns),
        canonical_names,
        found.categories,
        frozenset(str(w).lower() for w in vocab.get("unit_kinds") or []),
        exact_case,
        any_case,
        frozenset(generic_ids),
        frozenset(
            f"{label}{ENT_ID_SEP}{category}"
            for label, classes in (owned.get("nouns") or {}).items()
            for category in classes
        ),
        national_forces=frozenset(str(w).lower() for w in vocab.get("national_forces") or []),
        unit_countries={
            str(e["canonical"]): str(e["country"])
            for e in data.get("entries", [])
            if e.get("country")
        },
        unit_abbreviations=unit_abbreviations,
    )


@lru_cache(maxsize=8)
def cached_gazetteer(path: Path) -> Gazetteer:
    """:func:`load_gazetteer` of ``path``, read once per process."""
    return load_gazetteer(path)


# --- the steps of load_gazetteer, in its order -----------------------------------------------


def _add_entries(found: _Patterns, data: dict[str, Any]) -> None:
    # The gazetteer's named systems, then its raw token patterns.
    for entry in data.get("entries", []):
        canonical, label = str(entry["canonical"]), str(entry["label"])
        if entry.get("category"):
            found.categories[canonical] = str(entry["category"])
        maker = entry.get("maker")
        # Case-insensitive aliases are phrase patterns (PhraseMatcher on LOWER, a hash lookup):
        # token patterns with IN/REGEX predicates call back into Python for every token and made
        # the ruler slower than the statistical NER.
        for alias in expand_aliases(entry.get("aliases", []), maker):
            found.patterns.append({"label": label, "id": canonical, "pattern": alias})
        # Cased aliases are phrase patterns too (on LOWER) and the ruler then keeps only the
        # matches written exactly so: a hundred and more ORTH token patterns made the spaCy
        # Matcher, which tries every token pattern at every token, the slowest part of the stage.
        for alias in entry.get("cased_aliases", []):
            found.patterns.append({"label": label, "id": canonical, "pattern": str(alias)})
            found.exact.add((f"{label}{ENT_ID_SEP}{canonical}", str(alias)))
    for raw in data.get("patterns", []):
        found.patterns.append({"label": raw["label"], "pattern": raw["pattern"]})


def _add_unit_abbreviations(found: _Patterns, unit_abbreviations: dict[str, str]) -> None:
    # Numbered formations written with an abbreviated kind ("the 507th ARW", "4th ID"): one token
    # pattern (an ORTH set lookup after the ordinal), the kinds from the vocabulary.
    if unit_abbreviations:
        pattern = [
            {"LOWER": {"REGEX": r"^\d+(st|nd|rd|th)$"}},
            {"ORTH": {"IN": sorted(unit_abbreviations)}},
        ]
        found.patterns.append({"label": "MILITARY_UNIT", "pattern": pattern})


def _add_generic(found: _Patterns, vocab: dict[str, Any]) -> set[str]:
    # The vocabulary's generic nouns and owned nouns; returns their ruler ids.
    lowercase_only = {str(w) for w in vocab.get("lowercase_only") or []}
    owned = vocab.get("owned") or {}
    owners = [str(o) for o in owned.get("owners") or []]
    generic_ids: set[str] = set()
    for label, classes in _generic_classes(vocab.get("generic"), owned.get("nouns"), owners):
        for category, phrases in classes.items():
            found.categories[str(category)] = str(category)
            generic_ids.add(str(category))
            for phrase in generic_forms(phrases, vocab):
                found.patterns.append({"label": str(label), "id": str(category), "pattern": phrase})
                # Acronyms and owners' names only as written ("SAM", not "Sam"); some nouns only
                # in lower case ("shell", not the oil company "Shell").
                if phrase != phrase.lower() or phrase in lowercase_only:
                    found.exact.add((f"{label}{ENT_ID_SEP}{category}", phrase))
    return generic_ids


def _add_not_military(found: _Patterns, vocab: dict[str, Any]) -> None:
    # Phrases that hold a military noun but name something else ("think tank", "jet fuel"): the
    # ruler matches them (the longest match wins) and drops them, so "tank" alone is not matched.
    for phrase in generic_forms(vocab.get("not_military") or [], vocab):
        found.patterns.append({"label": NOT_DOMAIN, "pattern": phrase})


def _canonical_names(data: dict[str, Any]) -> dict[str, dict[str, str]]:
    # label -> tidied, lower-cased alias (and the name itself) -> canonical name.
    canonical_names: dict[str, dict[str, str]] = {}
    for label, names in (data.get("canonical") or {}).items():
        table = canonical_names.setdefault(label, {})
        for name, aliases in names.items():
            table[tidy(name).lower()] = name
            for alias in aliases:
                table[tidy(str(alias)).lower()] = name
    return canonical_names


def _add_aircraft_lists(found: _Patterns, vocab: dict[str, Any]) -> None:
    kinds = [str(k).lower() for k in (vocab.get("aircraft_lists") or {}).get("types") or []]
    if not kinds:
        return
    # "Attack, bomber, fighter and remotely piloted aircraft": up to three types, then the last.
    pattern: list[dict[str, Any]] = [{"LOWER": {"IN": kinds}}]
    for _ in range(2):
        pattern += [{"ORTH": ",", "OP": "?"}, {"LOWER": {"IN": kinds}, "OP": "?"}]
    pattern += [
        {"ORTH": ",", "OP": "?"},
        {"LOWER": {"IN": ["and", "or"]}},
        {"LOWER": {"IN": [*kinds, "remotely"]}},
        {"LOWER": "piloted", "OP": "?"},
        {"LOWER": "aircraft"},
    ]
    found.patterns.append({"label": "AIRCRAFT", "id": "aircraft", "pattern": pattern})
    found.categories["aircraft"] = "aircraft"


def _case_rules(
    found: _Patterns, nlp: Language
) -> tuple[dict[str, frozenset[tuple[str, ...]]], dict[str, frozenset[tuple[str, ...]]]]:
    # Gazetteer.exact_case and .any_case: the phrases of the cased keys as nlp tokenizes them.
    exact_case: dict[str, set[tuple[str, ...]]] = {}
    for key, phrase in found.exact:
        exact_case.setdefault(key, set()).add(_token_texts(nlp, phrase))
    any_case: dict[str, set[tuple[str, ...]]] = {}
    for p in found.patterns:
        key = f"{p['label']}{ENT_ID_SEP}{p['id']}" if p.get("id") else str(p["label"])
        if key in exact_case and isinstance(p["pattern"], str):
            forms = exact_case[key]
            tokens = _token_texts(nlp, p["pattern"])
            if tokens not in forms:
                any_case.setdefault(key, set()).add(tuple(t.lower() for t in tokens))
    return (
        {k: frozenset(v) for k, v in exact_case.items()},
        {k: frozenset(v) for k, v in any_case.items()},
    )


# --- helpers ---------------------------------------------------------------------------------


def _generic_classes(
    generic: dict[str, Any] | None, owned_nouns: dict[str, Any] | None, owners: list[str]
) -> Iterator[tuple[str, dict[str, list[str]]]]:
    # label -> {category: phrases}: the vocabulary's generic nouns, then each owned noun behind
    # each owner ("ISIL vehicle").
    yield from (generic or {}).items()
    for label, classes in (owned_nouns or {}).items():
        yield (
            label,
            {
                str(category): [f"{owner} {noun}" for noun in nouns for owner in owners]
                for category, nouns in classes.items()
            },
        )


def _token_texts(nlp: Language, phrase: str) -> tuple[str, ...]:
    return tuple(t.text for t in nlp.make_doc(phrase))


@lru_cache(maxsize=1)
def _blank_english() -> Language:
    return spacy.blank("en")
