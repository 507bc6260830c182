"""One plain-text story: paragraphs in, body paragraphs plus title, authors and dates out; pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from services.clean.boilerplate import (
    classify_paragraphs,
    is_email,
    is_headline_like,
    words_of,
)
from services.clean.metadata.bylines import parse_byline
from services.clean.metadata.dates import find_dates
from services.clean.metadata.source import strip_lede_dateline
from shared.linear import compile_linear

_URL_LINE = compile_linear(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
# Kept in re for its lookahead, which findall needs not to consume. Linear: an attempt starts
# only at the line's start or after , ; : and its words cannot cross the next , ; or :, so the
# attempts never scan the same characters twice.
_CONTACT_NAMES = re.compile(
    r"(?:^|[:;,]\s*)([A-Z][\w'’.-]+(?:\s+(?:[A-Z][\w'’.-]+|de|da|van|von|der|del|bin|al|le|la))"
    r"{1,3})(?=\s+(?:in|at)\b)"
)
_REPORTER_CONTACT = compile_linear(
    r"^\W*to contact the (?:reporters?|authors?|writers?)(?:\W|$)", re.IGNORECASE
)


@dataclass
class Story:
    """What the plain-text cleaner found in one story."""

    paragraphs: list[str]
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    dates: list[datetime | None] = field(default_factory=list)  # absolute, in order found
    relative_dates: list[datetime | None] = field(default_factory=list)  # "7 days ago"
    url: str | None = None
    agency: str | None = None  # from a wire dateline, e.g. "Reuters"
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (kind, paragraph)


def _similar(a: str, b: str) -> float:
    """Token Jaccard similarity of two lines, case-blind."""
    wa, wb = {w.lower() for w in words_of(a)}, {w.lower() for w in words_of(b)}
    return len(wa & wb) / len(wa | wb) if wa and wb else 0.0


def _title_candidate(text: str) -> bool:
    words = words_of(text)
    return is_headline_like(text) or (3 <= len(words) <= 25 and text.rstrip().endswith(("?", "!")))


def authors_from_contact(line: str) -> list[str]:
    """Names in a "To contact the reporters on this story: Jane Doe in Paris at ..." line."""
    if not _REPORTER_CONTACT.match(line):
        return []
    _, _, rest = line.partition(":")
    return _CONTACT_NAMES.findall(rest.strip())


def _join_broken(paragraphs: list[str]) -> list[str]:
    """Re-join a sentence split over two lines ("... Gil emphasized:" / "over the next ...")."""
    out: list[str] = []
    for p in paragraphs:
        if out and p[:1].islower() and out[-1].endswith((":", ",", ";", "–", "—")):
            out[-1] = f"{out[-1]} {p}"
        else:
            out.append(p)
    return out


def clean_story(
    paragraphs: list[str],
    *,
    now: datetime,
    stopwords: frozenset[str],
    known_title: str | None = None,
) -> Story:
    """Split one story's paragraphs into body and metadata, dropping boilerplate.

    The header zone (before the lede) yields the section label (dropped), the title and its
    repeats, bylines, date lines and the dek/standfirst, which is kept as the first paragraph.
    """
    story = Story(paragraphs=[])
    classified = classify_paragraphs(paragraphs, stopwords)
    kinds = classified.kinds
    _collect_url_and_dates(story, paragraphs, kinds, now)
    header = [i for i in range(classified.body_start) if kinds[i] in {None, "email", "date"}]
    title = _read_header(story, paragraphs, kinds, header, known_title, now)

    # No byline: a "To contact the reporters" block still names the authors.
    if not story.authors:
        for text in paragraphs:
            story.authors.extend(authors_from_contact(text))

    kept = []
    for text, kind in zip(paragraphs, kinds, strict=True):
        if kind is None:
            kept.append(text)
        else:
            story.dropped.append((kind, text))
    kept = _join_broken(kept)
    _strip_lede_dateline(story, kept)

    story.paragraphs = [p for p in kept if p and not is_email(p)]
    story.title = title
    # Keep order, drop repeats ("Tom Balmforth" in the byline and the contact block).
    story.authors = list(dict.fromkeys(a for a in story.authors if a))
    return story


def _collect_url_and_dates(
    story: Story, paragraphs: list[str], kinds: list[str | None], now: datetime
) -> None:
    """The first URL line, and the dates of every date line, anywhere in the story."""
    for i, text in enumerate(paragraphs):
        if kinds[i] == "url" and story.url is None and _URL_LINE.match(text):
            story.url = text
        if kinds[i] in {"date", "posted_ago"}:
            absolute, relative = find_dates(text, now=now)
            story.dates.append(absolute)
            story.relative_dates.append(relative)


def _read_header(
    story: Story,
    paragraphs: list[str],
    kinds: list[str | None],
    header: list[int],
    title: str | None,
    now: datetime,
) -> str | None:
    """Mark the header zone's bylines, title, its repeats and section label; return the title.

    ``title`` is the one the input gave, if any. Bylines add their authors and dates to
    ``story``; anything else in the header (a dek/standfirst) is kept as story text.
    """
    for pos, i in enumerate(header):
        text = paragraphs[i]
        byline = parse_byline(text)
        if byline and (byline[1] or title is not None):
            story.authors.extend(byline[0])
            kinds[i] = "byline"
            absolute, relative = find_dates(text, now=now)
            story.dates.append(absolute)
            story.relative_dates.append(relative)
        elif kinds[i] is not None:
            continue
        elif title is not None:
            if _similar(text, title) >= 0.7:
                kinds[i] = "title"  # a repeat of the headline (SEO title, social title)
        elif _title_candidate(text):
            following = [j for j in header[pos + 1 :] if kinds[j] is None]
            nxt = paragraphs[following[0]] if following else None
            if _is_section_label(text, nxt):
                kinds[i] = "section"
            else:
                title = text
                kinds[i] = "title"
    return title


def _is_section_label(text: str, nxt: str | None) -> bool:
    """A one-to-three-word label before a longer headline is the section ("World News")."""
    return (
        len(words_of(text)) <= 3
        and nxt is not None
        and _title_candidate(nxt)
        and len(words_of(nxt)) > len(words_of(text))
        and not parse_byline(nxt)
    )


def _strip_lede_dateline(story: Story, kept: list[str]) -> None:
    """The lede's wire dateline ("MOSCOW (Reuters) - ") is metadata, not story text."""
    lede_index = next((k for k, p in enumerate(kept) if len(words_of(p)) >= 6), None)
    if lede_index is not None:
        lede, dateline = strip_lede_dateline(kept[lede_index])
        if dateline is not None:
            kept[lede_index] = lede
            story.agency = dateline.agency
            story.dropped.append(("dateline", dateline.text))
