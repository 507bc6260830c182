"""Plain-text extractor: scraped text (one story, or a pasted dump) in, a draft per story out; pure.

A dump is several scraped pages pasted one after another. A story starts at a line that is only
a URL, or - when a page was pasted without its URL - at a header run: a published-date line
after the previous story's prose, with the section label before it and a headline near it. Each
story is then stripped of boilerplate, and its title, bylines and dates read from its header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.clean.boilerplate import is_headline_like, is_prose, words_of
from services.clean.extractors.base import Draft, ExtractContext
from services.clean.metadata.dates import is_date_line
from services.clean.metadata.language import detect_language, looks_english, stopwords_for
from services.clean.normalise import normalise_text, to_paragraphs
from services.clean.story import clean_story
from shared.errors import Reject
from shared.linear import compile_linear
from shared.schemas import RawArticle

_URL_LINE = compile_linear(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
_YEAR = compile_linear(r"(?:^|\W)(?:19|20)\d{2}(?:\W|$)")


@dataclass(frozen=True)
class Segment:
    """One story's share of a dump: its text (still with header and boilerplate) and URL."""

    text: str
    url: str | None = None


def _starts_header_run(lines: list[str], idx: int, stopwords: frozenset[str]) -> int | None:
    """If the date line at ``idx`` opens a new story's header, return the header's first line."""
    before: list[int] = []
    k = idx - 1
    while k >= 0 and len(before) < 5:
        if lines[k]:
            if is_prose(lines[k], stopwords):
                break
            before.append(k)
        k -= 1
    after: list[int] = []
    k = idx + 1
    while k < len(lines) and len(after) < 6:
        if lines[k]:
            if is_prose(lines[k], stopwords):
                break
            after.append(k)
        k += 1
    if k >= len(lines):
        return None  # no story prose follows: a date inside the closing furniture
    header = before + after
    if not any(is_headline_like(lines[j]) and len(words_of(lines[j])) >= 4 for j in header):
        return None
    return min(before) if before else idx


def split_segments(text: str, stopwords: frozenset[str]) -> list[Segment]:
    """Split normalised text into story segments; a single story gives one segment."""
    lines = text.split("\n")
    starts: list[tuple[int, str | None]] = [(0, None)]
    seen_prose = False
    for idx, line in enumerate(lines):
        if not line:
            continue
        if _URL_LINE.match(line):
            if seen_prose:
                starts.append((idx, line))
            elif starts[-1][1] is None:
                starts[-1] = (starts[-1][0], line)
            seen_prose = False
            continue
        if seen_prose and _YEAR.search(line) and is_date_line(line):
            begin = _starts_header_run(lines, idx, stopwords)
            if begin is not None and begin > starts[-1][0]:
                starts.append((begin, None))
                seen_prose = False
                continue
        if not seen_prose and is_prose(line, stopwords):
            seen_prose = True
    segments = []
    bounds = [s for s, _ in starts[1:]] + [len(lines)]
    for (begin, url), end in zip(starts, bounds, strict=True):
        chunk = "\n".join(lines[begin:end]).strip()
        if chunk:
            segments.append(Segment(chunk, url))
    return segments


def _count_nonblank_lines(text: str, stop_after: int) -> int:
    """Non-blank lines of ``text``, counting no further than ``stop_after + 1``."""
    count = 0
    for line in text.splitlines():
        if line.strip():
            count += 1
            if count > stop_after:
                break
    return count


class TextExtractor:
    """Plain text and pasted dumps: reads any text, so it comes last in the list."""

    name = "text"

    def accepts(self, raw: RawArticle) -> bool:
        """Return True: whatever the other formats leave is read as plain text."""
        return True

    def extract(self, raw: RawArticle, context: ExtractContext) -> list[Draft]:
        """Return one draft per story of the normalised text, stripped of boilerplate.

        The stop-word list follows ``raw.language``, else the text's language (English when
        unknown); ``raw.title`` is the title of a text that holds one story.

        Raises:
            Reject: ``too_long`` when the text has more than ``context.max_lines`` non-blank lines.
        """
        text = raw.text or ""
        limit = context.max_lines
        if limit is not None and _count_nonblank_lines(text, stop_after=limit) > limit:
            raise Reject("too_long", f"more than {limit:,} non-blank lines; the limit is {limit:,}")
        text = normalise_text(text)
        # One guess at the language for the whole input is enough, and text that is plainly
        # English needs no detector call.
        language = (raw.language or "")[:2].lower()
        if not language:
            language = (
                "en" if looks_english(text) else detect_language(text, context.detector) or "en"
            )
        stop = stopwords_for(language)
        segments = split_segments(text, stop)
        single = len(segments) == 1
        drafts = []
        for segment in segments:
            story = clean_story(
                to_paragraphs(segment.text),
                now=context.now,
                stopwords=stop,
                known_title=normalise_text(raw.title) if raw.title and single else None,
            )
            drafts.append(
                Draft(
                    paragraphs=story.paragraphs,
                    title=story.title,
                    authors=story.authors,
                    dates=story.dates,
                    relative_dates=story.relative_dates,
                    url=segment.url or story.url,
                )
            )
        return drafts
