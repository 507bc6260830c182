"""Where a story comes from: str in, its source domain or its lede's wire dateline out; pure.

The registered domain of a URL or host ("news.bbc.co.uk" -> "bbc.co.uk"), and the wire dateline
("MOSCOW (Reuters) - ") that opens a lede.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tld import get_fld

from shared.linear import compile_linear

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


def normalise_source(value: str | None) -> str | None:
    """Return a given source as its domain when it is one, else as given ("Reuters"); None if blank."""
    if not value or not value.strip():
        return None
    return source_domain(value) or value.strip()


# --- the wire dateline at the start of a lede ------------------------------------------------

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
    # KABUL, Afghanistan - (a city in capitals, its country or state, any dash)
    r"|[A-Z][A-Z.'’ -]{2,30},\s*[A-Z][\w.]*(?: [A-Z][\w.]*){0,2}\s+[-–—]{1,2}\s+"
    # Reuters - / AFP - (a wire's name alone before a dash, as news feeds' summaries begin)
    r"|(?P<wire>Reuters|AFP|AP|UPI|Xinhua|Canadian Press|dpa|Interfax|TASS|ANSA|Kyodo|Yonhap)"
    r"\s+[-–—]{1,2}\s+"
    # NEW YORK - / London - / Bukavu/Nairobi - / SPACE.com - (feeds' summaries: a city in
    # capitals, or one name or names joined by "/", then a lone hyphen)
    r"|(?P<bare>[A-Z][A-Z.'’]{2,}(?: [A-Z][A-Z.'’]+){0,3}|[A-Z][\w.'’]*[a-z][\w.'’]*(?:/[A-Z][\w.'’]*)*)\s+-\s+"
    r")"
)
# A dash inside the first sentence after a lone-hyphen name makes the pair an aside ("Gazprom -
# Russia's gas giant - said"), not a dateline.
_ASIDE_DASH = compile_linear(r"^[^.!?]*\s[-–—]\s")


@dataclass(frozen=True)
class Dateline:
    """A wire dateline cut from the start of a lede: the text before the story proper."""

    text: str
    agency: str | None


def strip_lede_dateline(paragraph: str) -> tuple[str, Dateline | None]:
    """Remove a dateline ("MOSCOW (Reuters) - ", "(Bloomberg) -- ", "Moscow | ") from a lede.

    A feed's summary may carry two, its own name and the wire's ("SPACE.com - TORONTO, Canada --
    "): both go, as one dateline.
    """
    rest, first = _strip_one(paragraph)
    if first is None:
        return paragraph, None
    rest, second = _strip_one(rest)
    if second is None:
        return rest, first
    return rest, Dateline(f"{first.text} {second.text}", first.agency or second.agency)


def _strip_one(paragraph: str) -> tuple[str, Dateline | None]:
    match = _LEDE_DATELINE.match(paragraph)
    if not match:
        return paragraph, None
    rest = paragraph[match.end() :]
    # What follows must be a sentence, not a headline split by a dash.
    if len(rest.split()) < 6 or not rest[:1].isupper() and rest[:1] not in "“\"‘'":
        return paragraph, None
    if match.group("bare") and _ASIDE_DASH.match(rest):
        return paragraph, None
    return rest, Dateline(match.group(0).strip(), match.group("agency") or match.group("wire"))
