"""Publication dates in a line of text: str in, UTC datetimes (absolute, relative) out; pure.

Absolute dates in the orders news sites print them, "First published" preferred, "N days ago"
resolved against the ingest time, and never a date after it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from dateutil import parser as dateparser  # type: ignore[import-untyped]
from dateutil.tz import tzoffset  # type: ignore[import-untyped]

from shared.linear import compile_linear

# Patterns that can see text of any length are compiled with RE2 (linear time). The few kept in
# ``re`` need Unicode \b or a lookaround where the match's extent matters (sub, split), and each
# is linear by construction: see the comment above each. ``\b`` in RE2 patterns is written out
# as ``(?:^|\W)`` / ``(?:\W|$)`` where only whether the pattern occurs matters.

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?"
_TIME = r"\d{1,2}(?:[:.]\d{2}){1,2}(?:\.\d+)?\s*(?:[ap]\.?m\.?)?|\d{1,2}\s*[ap]\.?m\.?"
_TZ = r"(?:[A-Z]{2,5}|[+-]\d{2}:?\d{2}|UTC|GMT)"
# Between a date and its time: commas, spaces, slashes, dashes, bars and the word "at" (which a
# date's last digit cannot touch, nor the time's first one: the old pattern's \bat\b).
_DATE_TIME_SEP = r"[,/·|\s-]+(?:at[,/·|\s-]+)*"
# One absolute date with optional weekday, time and zone, in the orders news sites print. The
# zone must end a word; the character that shows it (``tz_end``) is not part of the date.
_DATE = compile_linear(
    rf"(?:{_WEEKDAY}\s*)?(?:"
    rf"{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"  # March 28, 2019
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"  # 25 Mar 2019
    rf"|\d{{1,2}}-{_MONTH}-\d{{4}}"  # 26-FEB-1987 (Reuters-21578)
    rf"|\d{{4}}-\d{{2}}-\d{{2}}(?:[T ]\d{{2}}:\d{{2}}(?::\d{{2}}(?:\.\d+)?)?(?:Z|[+-]\d{{2}}:?\d{{2}})?)?"
    rf")(?:{_DATE_TIME_SEP}(?:{_TIME})(?:\s*{_TZ}(?P<tz_end>\W|$))?)?",
    re.IGNORECASE,
)
_TZ_END = _DATE.groupindex["tz_end"]
# Kept in re: Unicode \b, and sub() needs the exact extent. Linear: an attempt starts only at a
# word start (\b), and its runs (\d+, \s+) stop at the first character outside their class.
_RELATIVE = re.compile(
    r"\b(\d+|an?|one)\s+(second|sec|minute|min|hour|hr|day|week|month|year)s?\s+ago\b",
    re.IGNORECASE,
)
# Words that may sit around a date on a date line without making it a sentence. Kept in re
# (Unicode \b, used by sub): it has no repetition, and is_date_line runs it on <= 160 characters.
_DATE_FILLER = re.compile(
    r"\b(?:first|last|published|posted|updated|modified|on|at|the|and|by|date|time|local"
    r"|edt|est|cdt|cst|pdt|pst|gmt|bst|cet|cest|utc|am|pm|et)\b|[|/·•,:;()\-–—]",
    re.IGNORECASE,
)
# Its end may take one non-word character more than \b did: no date starts on one.
_FIRST_PUBLISHED = compile_linear(
    r"(?:^|\W)(?:first\s+)?published(?:\s+on)?(?:\W|$)", re.IGNORECASE
)
# The weekday, month and time words left on a date line (is_date_line, <= 160 characters; kept
# in re for Unicode \b and the lookahead; no nested repetition).
_DATE_WORDS = re.compile(rf"\b{_WEEKDAY}|\b{_MONTH}(?=\s|$)|{_TIME}", re.IGNORECASE)
_WORD_RUN = re.compile(r"\w+")  # a tokeniser: one class, each character looked at once
# "16.55 GMT" (Guardian) is a time; kept in re for its lookarounds, which are one character
# each, and every repetition is bounded (\d{1,2}, \d{2}): constant work per position.
_DOT_TIME = re.compile(r"(?<![\d:.])(\d{1,2})\.(\d{2})(?![\d.:])")
_AM_PM = compile_linear(r"(\d)([ap])\.?m\.?", re.IGNORECASE)

# US zone abbreviations dateutil does not know; anything else unknown is read as UTC.
_TZINFOS = {
    name: tzoffset(name, hours * 3600)
    for name, hours in {
        "EDT": -4,
        "EST": -5,
        "CDT": -5,
        "CST": -6,
        "MDT": -6,
        "MST": -7,
        "PDT": -7,
        "PST": -8,
        "ET": -5,
        "BST": 1,
        "CET": 1,
        "CEST": 2,
        "MSK": 3,
        "IST": 5.5,
        "JST": 9,
        "AEST": 10,
    }.items()
}


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _parse_absolute(span: str) -> datetime | None:
    # "16.55 GMT" (Guardian) is a time: make the dot a colon so dateutil reads it.
    span = _DOT_TIME.sub(r"\1:\2", span.strip(" ,/|-·"))
    span = _AM_PM.sub(r"\1 \2m", span)
    try:
        return dateparser.parse(span, tzinfos=_TZINFOS, fuzzy=True)
    except (ValueError, OverflowError, TypeError):
        return None


def find_dates(line: str, *, now: datetime) -> tuple[datetime | None, datetime | None]:
    """Return (absolute, relative) dates found in ``line``; the relative one is resolved at ``now``.

    When a line carries several absolute dates and says which one was first published, that
    one wins ("Mon 25 Mar 2019 16.55 GMT First published on Mon 25 Mar 2019 04.13 GMT").
    """
    absolute = None
    spans = date_spans(line)
    if spans:
        chosen = spans[0]
        marker = _FIRST_PUBLISHED.search(line)
        if marker and len(spans) > 1:
            chosen = next((s for s in spans if s[0] >= marker.end()), spans[-1])
        absolute = _parse_absolute(line[chosen[0] : chosen[1]])
    relative = None
    match = _RELATIVE.search(line)
    if match:
        amount_text, unit = match.group(1).lower(), match.group(2).lower()
        amount = 1 if amount_text in {"a", "an", "one"} else int(amount_text)
        days = {
            "second": 1 / 86400,
            "sec": 1 / 86400,
            "minute": 1 / 1440,
            "min": 1 / 1440,
            "hour": 1 / 24,
            "hr": 1 / 24,
            "day": 1,
            "week": 7,
            "month": 30,
            "year": 365,
        }[unit]
        relative = _as_utc(now) - timedelta(days=amount * days)
    return (_as_utc(absolute) if absolute else None), relative


def date_spans(line: str) -> list[tuple[int, int]]:
    """Return the (start, end) of each absolute date in ``line``, with its time and zone if any.

    A zone ends a word ("10:00 GMT", not "10:00 GMTX"); the span stops where the old
    ``\\b``-ended ``re`` pattern stopped, so callers cutting the line at it see the same text.
    """
    spans = []
    for m in _DATE.finditer(line):
        tz_end = m.start(_TZ_END)  # RE2's match objects take group numbers only
        spans.append((m.start(), tz_end if tz_end >= 0 else m.end()))
    return spans


def remove_relative_dates(text: str) -> str:
    """Return ``text`` with each relative date ("2 hours ago", "a day ago") replaced by a space."""
    return _RELATIVE.sub(" ", text)


def is_date_line(line: str) -> bool:
    """Whether a line is only a publication date/time (with "Published", "Updated", "ago" ...)."""
    if len(line) > 160:
        return False
    pieces, pos = [], 0
    for start, end in date_spans(line):
        pieces += [line[pos:start], " "]
        pos = end
    rest = "".join(pieces) + line[pos:]
    rest = remove_relative_dates(rest)
    if rest == line:
        return False
    rest = _DATE_FILLER.sub(" ", rest)
    rest = _DATE_WORDS.sub(" ", rest)
    return len(_WORD_RUN.findall(rest)) <= 1


def pick_published(
    candidates: list[datetime | None], relative: list[datetime | None], *, now: datetime
) -> datetime | None:
    """Return the first absolute date not after ``now``, else the first relative one."""
    limit = _as_utc(now)
    for value in [*candidates, *relative]:
        if value is not None and value <= limit:
            return value
    return None


def not_in_future(value: datetime | None, *, now: datetime) -> datetime | None:
    """``value`` in UTC, or None when it lies after ``now`` (a clock or parse error, not news)."""
    if value is None:
        return None
    value = _as_utc(value)
    return value if value <= _as_utc(now) else None
