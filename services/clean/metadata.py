"""Metadata from text structure: dates, bylines, wire datelines, source domains, language; pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from dateutil import parser as dateparser  # type: ignore[import-untyped]
from dateutil.tz import tzoffset  # type: ignore[import-untyped]
from tld import get_fld

from services.clean.linear import compile_linear

# Patterns that can see text of any length are compiled with RE2 (linear time). The few kept in
# ``re`` need Unicode \b or a lookaround where the match's extent matters (sub, split), and each
# is linear by construction: see the comment above each. ``\b`` in RE2 patterns is written out
# as ``(?:^|\W)`` / ``(?:\W|$)`` where only whether the pattern occurs matters.

# --- source domain ---------------------------------------------------------------------------

_HOST = compile_linear(r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/\s]*@)?([^/:?#\s]+)", re.IGNORECASE)


def source_domain(url_or_host: str | None) -> str | None:
    """Return the registered domain of a URL or host ("uk.reuters.com/..." -> "reuters.com").

    Uses the public-suffix list (``tld``), so "news.bbc.co.uk" gives "bbc.co.uk". A value that is
    not a host name (e.g. "Reuters") gives None.
    """
    if not url_or_host:
        return None
    value = url_or_host.strip()
    match = _HOST.match(value)
    if not match or "." not in match.group(1):
        return None
    host = match.group(1).lower().rstrip(".")
    fld = get_fld(f"http://{host}", fail_silently=True)
    if isinstance(fld, str):
        return fld
    return host.removeprefix("www.")


# --- dates -----------------------------------------------------------------------------------

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
    spans = _date_spans(line)
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


def _date_spans(line: str) -> list[tuple[int, int]]:
    """(start, end) of each absolute date in ``line``, as the old ``\\b``-ended pattern found them."""
    spans = []
    for m in _DATE.finditer(line):
        tz_end = m.start(_TZ_END)  # RE2's match objects take group numbers only
        spans.append((m.start(), tz_end if tz_end >= 0 else m.end()))
    return spans


def is_date_line(line: str) -> bool:
    """Whether a line is only a publication date/time (with "Published", "Updated", "ago" ...)."""
    if len(line) > 160:
        return False
    pieces, pos = [], 0
    for start, end in _date_spans(line):
        pieces += [line[pos:start], " "]
        pos = end
    rest = "".join(pieces) + line[pos:]
    rest = _RELATIVE.sub(" ", rest)
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


# --- bylines ---------------------------------------------------------------------------------

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
    date = _DATE.search(text)
    if date:
        text = text[: date.start()]
    text = _RELATIVE.sub(" ", text)
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


# --- wire datelines at the start of a lede ---------------------------------------------------

_LEDE_DATELINE = compile_linear(
    r"^(?:"
    # MOSCOW (Reuters) - / WASHINGTON, March 5 (AP) — / (Bloomberg) --
    r"(?:[A-Z][\w.'’-]*(?:[ /][A-Z][\w.'’-]*){0,3}(?:,\s*[A-Z][\w.]*){0,2}(?:,?\s*[A-Z][a-z]{2,8}\.?\s+\d{1,2})?\s*)?"
    r"\((?P<agency>[A-Z][\w&.'’ -]{1,40})\)\s*[-–—]{1,2}\s*"
    # SALVADOR, Feb 26 - (Reuters-21578 without the agency)
    r"|[A-Z][A-Z.'’ -]{2,30},\s*[A-Z][a-z]{2,8}\.?\s+\d{1,2}\s*[-–—]{1,2}\s*"
    # Moscow | (a city, then a bar) / MOSCOW — (a city in capitals, then a long dash)
    r"|[A-Z][\w.'’-]*(?: [A-Z][\w.'’-]*){0,2}\s*\|\s+"
    r"|[A-Z][A-Z.'’-]+(?: [A-Z][A-Z.'’-]+){0,2}\s*(?:—|–|--)\s+"
    r")"
)


@dataclass(frozen=True)
class Dateline:
    """A wire dateline cut from the start of a lede: the text before the story proper."""

    text: str
    agency: str | None


def strip_lede_dateline(paragraph: str) -> tuple[str, Dateline | None]:
    """Remove a dateline ("MOSCOW (Reuters) - ", "(Bloomberg) -- ", "Moscow | ") from a lede."""
    match = _LEDE_DATELINE.match(paragraph)
    if not match:
        return paragraph, None
    rest = paragraph[match.end() :]
    # What follows must be a sentence, not a headline split by a dash.
    if len(rest.split()) < 6 or not rest[:1].isupper() and not rest[:1] in "“\"‘'":
        return paragraph, None
    return rest, Dateline(match.group(0).strip(), match.group("agency"))


# --- language --------------------------------------------------------------------------------


def build_language_detector() -> Any:
    """Build the lingua detector once (all languages, low-accuracy mode)."""
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()


def detect_language(text: str, detector: Any) -> str | None:
    """Return the ISO 639-1 code of ``text`` or None (no detector, too little text, no code)."""
    if detector is None or len(text) < 20:
        return None
    # About eighty words decide as well as the whole text; lingua's cost grows with length
    # (measured: ~3 ms for 500 characters, ~11 ms for 2,000).
    language = detector.detect_language_of(text[:500])
    if language is None:
        return None
    return str(language.iso_code_639_1.name.lower())
