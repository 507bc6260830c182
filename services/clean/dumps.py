"""Splitting one submitted text into stories: pasted dumps and Reuters-21578 SGML; pure.

A dump is several scraped pages pasted one after another. A story starts at a line that is only
a URL, or - when a page was pasted without its URL - at a header run: a published-date line
after the previous story's prose, with the section label before it and a headline near it.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from services.clean.boilerplate import is_headline_like, is_prose, words_of
from services.clean.linear import compile_linear
from services.clean.metadata import is_date_line

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


# --- Reuters-21578 SGML ----------------------------------------------------------------------

# RE2: a record without its closing tag made the lazy (.*?) of every later opening tag scan to the
# end of the input (quadratic in re). "<REUTERS\b" is written out: a non-word character or ">".
_RECORD = compile_linear(r"<REUTERS(?:[^\w>][^>]*)?>(.*?)</REUTERS>", re.DOTALL)
_FIELD = {
    name: compile_linear(rf"<{name}>(.*?)</{name}>", re.DOTALL)
    for name in ("DATE", "TITLE", "DATELINE", "BODY")
}
_TEXT = compile_linear(r"<TEXT(?:[^\w>][^>]*)?>(.*?)</TEXT>", re.DOTALL)
_TAG = compile_linear(r"<[^>]+>")
_TABLE_ROW = compile_linear(r"\S\s{3,}\S")


def looks_like_sgml(text: str) -> bool:
    """Whether ``text`` holds Reuters-21578 SGML records."""
    return "<REUTERS" in text and "</REUTERS>" in text


@dataclass(frozen=True)
class SgmlStory:
    """One Reuters-21578 record: title, date string, dateline and body paragraphs (raw)."""

    title: str | None
    date: str | None
    dateline: str | None
    paragraphs: list[str]


def _strip_signoff(body: str) -> str:
    """Remove the closing "Reuter" (and its end-of-text code &#3; or \\x03) with the space before.

    Plain string code for the old ``\\s*\\bReute?r\\s*(?:&#3;|\\x03)?\\s*$``, whose leading
    ``\\s*`` was retried from every position of a long run of spaces (quadratic).
    """
    rest = body.rstrip()
    for code in ("&#3;", "\x03"):
        if rest.endswith(code):
            rest = rest[: -len(code)].rstrip()
            break
    name = next((n for n in ("Reuter", "Reutr") if rest.endswith(n)), None)
    if name is None:
        return body
    start = len(rest) - len(name)
    before = rest[start - 1 : start]
    if before.isalnum() or before == "_":  # \b: "Reuter" must start a word
        return body
    return rest[:start].rstrip()


def _sgml_paragraphs(body: str) -> list[str]:
    """Join hard-wrapped wire lines; an indented line starts a new paragraph, as on the wire."""
    body = _strip_signoff(body)
    paragraphs: list[str] = []
    for raw in body.split("\n"):
        if not raw.strip():
            continue
        indented = raw.startswith((" ", "\t"))
        # Tables keep their rows: a line with a run of spaces inside is a row, not prose.
        tabular = bool(_TABLE_ROW.search(raw.strip()))
        if not paragraphs or indented or tabular:
            paragraphs.append(raw.strip())
        else:
            paragraphs[-1] = f"{paragraphs[-1]} {raw.strip()}"
    return paragraphs


def parse_sgml(text: str) -> list[SgmlStory]:
    """Parse every <REUTERS> record; records without a title or body give an empty story."""
    stories = []
    for record in _RECORD.finditer(text):
        content = record.group(1)
        fields = {
            name: (m.group(1) if (m := rx.search(content)) else None) for name, rx in _FIELD.items()
        }
        body = fields["BODY"]
        if body is None:
            # Unprocessed records carry bare text inside <TEXT TYPE="UNPROC">.
            text_match = _TEXT.search(content)
            body = _TAG.sub(" ", text_match.group(1)) if text_match else ""
            if fields["TITLE"] and text_match:
                body = body.replace(fields["TITLE"], "", 1)
        stories.append(
            SgmlStory(
                title=html.unescape(fields["TITLE"]).strip() if fields["TITLE"] else None,
                date=fields["DATE"],
                dateline=html.unescape(fields["DATELINE"]).strip() if fields["DATELINE"] else None,
                paragraphs=_sgml_paragraphs(html.unescape(body)),
            )
        )
    return stories
