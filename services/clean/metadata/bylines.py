"""Author names in a byline: one line in, the names (and whether it said "By") out; pure."""

from __future__ import annotations

import re

from services.clean.metadata.dates import date_spans, remove_relative_dates
from shared.linear import compile_linear

# Each pattern runs on one line of at most 160 characters (parse_byline checks first); all but
# _NAME_SPLIT are RE2 anyway, as the line comes from text we do not control.

_NAME_PARTICLES = {
    "de",
    "da",
    "del",
    "della",
    "der",
    "van",
    "von",
    "bin",
    "al",
    "la",
    "le",
    "du",
    "dos",
    "di",
    "ibn",
    "mac",
    "st",
    "jr",
    "sr",
}
_NAME_TOKEN = compile_linear(r"^(?:[A-Z][\w'’.-]*|[A-Z]\.)$")
_HANDLE_OR_MAIL = compile_linear(r"@\w+|\[email\s*protected\]|\S+@\S+\.\w+", re.IGNORECASE)
_BY = compile_linear(r"^(?:by|written by|words by|story by|von|par|por)\s*[:\s]\s*", re.IGNORECASE)
_PLACE_SUFFIX = compile_linear(
    r"\s+(?:in|at|from|reporting from)\s+[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,3}$"
)
# "\b.*$" written out: the name ends a word, then the rest of the line goes too.
_AFFILIATION = compile_linear(
    r"\s*(?:[|,–—-]\s*)?(?:for\s+)?(?:the\s+)?"
    r"(?:associated press|reuters|bloomberg|afp|ap|cnn|bbc)(?:[^\w\n].*)?$",
    re.IGNORECASE,
)
_TERMINAL_SENTENCE = compile_linear(r"[a-z]{3,}[.!?]$")
_ROLE = compile_linear(
    r"(?:^|\W)(?:reporter|correspondent|editor|writer|columnist|staff|contributor|analyst"
    r"|producer|bureau|chief|news|desk|team|agencies|agency)s?(?:\W|$)",
    re.IGNORECASE,
)
# Kept in re (Unicode \b, and split() needs the exact extent): no nested repetition, and
# parse_byline runs it on <= 160 characters.
_NAME_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\+)\s*")


def _name(candidate: str) -> str | None:
    candidate = _PLACE_SUFFIX.sub("", candidate.strip(" .,;:|"))
    tokens = candidate.split()
    if not 2 <= len(tokens) <= 4:
        return None
    capitals = 0
    for token in tokens:
        if token.lower() in _NAME_PARTICLES:
            continue
        if not _NAME_TOKEN.match(token) or any(ch.isdigit() for ch in token):
            return None
        capitals += 1
    if capitals < 2 or candidate.isupper() and len(candidate) > 3 and len(tokens) > 3:
        return None
    return candidate


def parse_byline(line: str) -> tuple[list[str], bool] | None:
    """Return (author names, has an explicit "By") when ``line`` is a byline, else None.

    Handles "By Alex Ward@handle Mar 27, 2019", "Tom Balmforth, Maxim Rodionov",
    "Andrew Roth in Moscow" and "By Jane Doe and John Roe, Associated Press".
    """
    if len(line) > 160 or _TERMINAL_SENTENCE.search(line) and not _BY.match(line):
        return None
    explicit = bool(_BY.match(line))
    text = _BY.sub("", line)
    text = _HANDLE_OR_MAIL.sub(" ", text)
    dates = date_spans(text)
    if dates:
        text = text[: dates[0][0]]
    text = remove_relative_dates(text)
    text = _AFFILIATION.sub("", text).strip(" |,-–—·")
    if not text or len(text.split()) > 14:
        return None
    names = []
    for part in _NAME_SPLIT.split(text):
        if not part:
            continue
        name = _name(part)
        if name is None:
            if _ROLE.search(part):
                continue  # "Business reporter", "Senior Moscow correspondent"
            return None
        names.append(name)
    return (names, explicit) if names else None
