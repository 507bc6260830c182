"""Entity text as looked up: tidied, and its canonical name from an alias table."""

from __future__ import annotations

import re2  # type: ignore[import-untyped]

# Patterns on entity text are RE2 (linear time). tidy hands them single-spaced text without
# newlines, where RE2's ASCII \s and end-of-text $ mean what re's did.
_POSSESSIVE = re2.compile("(?:'s|\u2019s|'|\u2019)$")
_LEADING_THE = re2.compile(r"(?i)^the\s+")


def tidy(text: str) -> str:
    """The text single-spaced, without a leading "the" or a trailing possessive."""
    text = " ".join(text.split())
    text = _LEADING_THE.sub("", text)
    return _POSSESSIVE.sub("", text).strip()


def canonicalise(text: str, label: str, table: dict[str, dict[str, str]]) -> str:
    """Return the canonical name of a spaCy entity: alias table first, else the tidied text."""
    tidied = tidy(text)
    return table.get(label, {}).get(tidied.lower(), tidied)
