"""The forms a gazetteer phrase is matched in: plurals, hyphenless names, makers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

import inflect

# Kept in re: it reads the gazetteer file (aliases we wrote), never input text.
_DESIGNATOR = re.compile(r"^([A-Za-z]+)-(\d[\w]*)$")


def generic_forms(phrases: Iterable[str], vocab: dict[str, Any]) -> list[str]:
    """Each generic phrase as written and with its last word in the plural (unless uncountable).

    Plurals come from ``inflect`` because the stage runs without spaCy's tagger and lemmatizer
    (they would cost more than the NER itself); the vocabulary's ``extra_plurals`` add the
    acronyms' plurals ("IEDs"), which inflect would spell "IEDS".
    """
    engine = _inflect_engine()
    uncountable = {str(u).lower() for u in vocab.get("uncountable") or []}
    extra = {str(p)[:-1].lower(): str(p) for p in vocab.get("extra_plurals") or []}
    forms: dict[str, None] = {}
    for phrase in phrases:
        phrase = str(phrase)
        forms[phrase] = None
        if phrase.lower() in extra:
            forms[extra[phrase.lower()]] = None
        elif phrase.lower() not in uncountable:
            head, _, last = phrase.rpartition(" ")
            plural = str(engine.plural_noun(last))  # type: ignore[arg-type]
            forms[f"{head} {plural}".strip()] = None
    return list(forms)


def expand_aliases(aliases: Iterable[str], maker: str | None) -> Iterator[str]:
    """Each alias as written, without its hyphen, behind its maker's name, and in the plural.

    Without the hyphen only while that is still unambiguous ("IL62", "S300", but not "B2" or
    "E3", which are vitamins and trade fairs); plurals "S-300s", "An-124s".
    """
    seen: set[str] = set()
    for alias in aliases:
        alias = str(alias)
        variants = [alias]
        last = alias.split()[-1]
        m = _DESIGNATOR.match(last)
        if m and (len(m.group(1)) >= 2 or len(m.group(2)) >= 3):
            variants.append(alias[: -len(last)] + m.group(1) + m.group(2))
        if maker and not alias.lower().startswith(maker.lower()):
            variants += [f"{maker} {v}" for v in list(variants)]
        if last[-1:].isalnum() and not last.lower().endswith("s"):
            variants += [f"{v}s" for v in list(variants)]
        for variant in variants:
            if variant.lower() not in seen:
                seen.add(variant.lower())
                yield variant


@lru_cache(maxsize=1)
def _inflect_engine() -> inflect.engine:
    return inflect.engine()
