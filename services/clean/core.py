"""Clean stage core: raw bytes -> RawArticle -> CleanArticle(s); rejects carry a reason; pure.

Consumes ``RawArticle`` (JSON) or plain UTF-8 text, produces one ``CleanArticle`` per story, and
raises ``Reject`` (dead-lettered by the app) for input it cannot use.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import justext  # type: ignore[import-untyped]

from services.clean.boilerplate import words_of
from services.clean.dumps import looks_like_sgml, parse_sgml, split_segments
from services.clean.html import extract_html, looks_like_html
from services.clean.linear import compile_linear
from services.clean.metadata import (
    build_language_detector,
    detect_language,
    find_dates,
    not_in_future,
    pick_published,
    source_domain,
)
from services.clean.normalise import join_paragraphs, normalise_text, to_paragraphs
from services.clean.story import clean_story
from shared.errors import Reject
from shared.schemas import CleanArticle, RawArticle

__all__ = ["build_language_detector", "clean_article", "decode_raw"]


# Magic numbers of formats analysts drop by mistake: named in the dead letter's detail.
_MAGIC = {
    b"%PDF": "PDF",
    b"\x89PNG": "PNG image",
    b"\xff\xd8\xff": "JPEG image",
    b"GIF8": "GIF image",
    b"PK\x03\x04": "ZIP archive (or DOCX/XLSX)",
    b"\x1f\x8b": "gzip data",
    b"\xd0\xcf\x11\xe0": "MS Office document",
    b"\x7fELF": "ELF executable",
}
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_JSON_LITERAL = compile_linear(r"^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)$")


def decode_raw(value: bytes, *, max_bytes: int | None = None) -> RawArticle:
    """Decode one input message into a ``RawArticle``.

    A JSON object is validated as ``RawArticle`` (a pydantic ``ValidationError`` propagates, e.g.
    when it has neither ``text`` nor ``html``); any other UTF-8 text becomes
    ``RawArticle(text=...)``.

    Raises:
        Reject: ``oversize`` (more than ``max_bytes``; None: no limit), ``binary`` (NUL bytes, control codes or
            a known binary format), ``not_utf8``, ``empty`` (nothing but whitespace),
            ``not_an_object`` (JSON that is an array or a bare literal) or ``invalid_json``
            (text shaped like a JSON object that does not parse, JSON nested deeper than the
            parser's recursion limit, an integer of more than 4,300 digits, or a JSON string
            holding a lone surrogate escape such as
            ``"\\ud800"``, which no UTF-8 text can carry).
    """
    if max_bytes is not None and len(value) > max_bytes:
        raise Reject("oversize", f"{len(value):,} bytes > limit of {max_bytes:,} bytes")
    for magic, name in _MAGIC.items():
        if value.startswith(magic):
            raise Reject("binary", f"input is {name} (starts with {magic!r})")
    if value.startswith(_UTF16_BOMS):
        raise Reject("not_utf8", "input is UTF-16 (byte-order mark); send UTF-8")
    head = value[:8192]
    if b"\x00" in head:
        raise Reject("binary", f"NUL byte at offset {head.index(0)}")
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 13) or b == 127)
    # Wire text carries a few control codes (\x02 \x03); binary data carries many.
    if head and controls / len(head) > 0.05:
        raise Reject("binary", f"{controls} control bytes in the first {len(head)} bytes")
    try:
        text = value.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Reject(
            "not_utf8", f"invalid UTF-8 byte 0x{value[exc.start]:02x} at offset {exc.start}"
        ) from exc
    stripped = text.strip()
    if not stripped:
        raise Reject("empty", f"{len(value)} bytes of whitespace" if value else "no bytes")
    if stripped[0] in "{[" or _JSON_LITERAL.match(stripped):
        try:
            data = json.loads(stripped)
        except RecursionError as exc:
            # "[" * 10_000: Python's parser recurses once per level and gives up near 1,000.
            raise Reject(
                "invalid_json", "JSON nested too deeply (more levels than the parser's limit)"
            ) from exc
        except json.JSONDecodeError as exc:
            if stripped[0] == "{" and stripped[-1] == "}":
                raise Reject(
                    "invalid_json", f"{exc.msg} at line {exc.lineno} column {exc.colno}"
                ) from exc
            data = None  # "[Photo] Troops ..." is text that merely starts with a bracket
        except ValueError as exc:
            # Parses, but Python will not hold it: an integer of more than 4,300 digits.
            raise Reject("invalid_json", str(exc)) from exc
        else:
            if not isinstance(data, dict):
                raise Reject("not_an_object", f"JSON {type(data).__name__}, expected an object")
            raw = RawArticle.model_validate(data)
            _check_encodable(raw)
            return raw
    return RawArticle(text=text)


def _check_encodable(raw: RawArticle) -> None:
    """Reject string fields with a lone surrogate (JSON "\\ud800"): not text, and not UTF-8."""
    for name, value in raw.model_dump().items():
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise Reject(
                    "invalid_json",
                    f"field {name!r} holds a lone surrogate \\u{ord(value[exc.start]):04x} "
                    f"at character {exc.start}",
                ) from exc


@lru_cache(maxsize=64)
def _stopwords(language: str | None) -> frozenset[str]:
    """jusText's stop-word list for an ISO 639-1 code (English when unknown)."""
    names = {
        "en": "English",
        "de": "German",
        "fr": "French",
        "es": "Spanish",
        "it": "Italian",
        "pt": "Portuguese",
        "nl": "Dutch",
        "ru": "Russian",
        "uk": "Ukrainian",
        "pl": "Polish",
        "sv": "Swedish",
        "da": "Danish",
        "no": "Norwegian_Bokmal",
        "nb": "Norwegian_Bokmal",
        "fi": "Finnish",
        "tr": "Turkish",
        "cs": "Czech",
        "ro": "Romanian",
        "hu": "Hungarian",
        "id": "Indonesian",
        "ca": "Catalan",
    }
    name = names.get(language or "en")
    if name is None:
        return frozenset()  # no list: features that need one are skipped, not guessed
    return frozenset(justext.get_stoplist(name))


def _looks_english(text: str) -> bool:
    """Whether a fifth or more of the first 300 words are English stop words (jusText's cue)."""
    words = words_of(text[:2000])[:300]
    if len(words) < 20:
        return False
    english = _stopwords("en")
    return sum(1 for w in words if w.lower() in english) / len(words) >= 0.2


@dataclass
class _Draft:
    """One story on its way to a ``CleanArticle``."""

    paragraphs: list[str]
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    dates: list[datetime | None] = field(default_factory=list)
    relative_dates: list[datetime | None] = field(default_factory=list)
    url: str | None = None
    host: str | None = None


def _content_id(raw: RawArticle) -> str:
    """16 hex digits of the SHA-256 of the whitespace-normalised input: same input, same id."""
    body = raw.html or raw.text or ""
    normalised = " ".join(body.split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:16]


def _drafts_from_html(page: str, url: str | None, now: datetime) -> list[_Draft]:
    article = extract_html(page, url=url)
    dates: list[datetime | None] = []
    if article.date:
        dates.append(find_dates(article.date, now=now)[0])
    return [
        _Draft(
            paragraphs=article.paragraphs,
            title=article.title,
            authors=article.authors,
            dates=dates,
            url=article.url,
            host=article.hostname,
        )
    ]


def _drafts_from_sgml(text: str, now: datetime) -> list[_Draft]:
    drafts = []
    stop = _stopwords("en")
    for record in parse_sgml(text):
        title = normalise_text(record.title) if record.title else None
        paragraphs = [p for p in (normalise_text(p) for p in record.paragraphs) if p]
        story = clean_story(paragraphs, now=now, stopwords=stop, known_title=title)
        dates = [find_dates(record.date, now=now)[0]] if record.date else []
        drafts.append(
            _Draft(paragraphs=story.paragraphs, title=title, authors=story.authors, dates=dates)
        )
    return drafts


def _drafts_from_text(text: str, raw: RawArticle, now: datetime, detector: Any) -> list[_Draft]:
    # The stop-word list follows the text's language; one guess for the whole input is enough,
    # and text that is plainly English needs no detector call.
    language = (raw.language or "")[:2].lower()
    if not language:
        language = "en" if _looks_english(text) else detect_language(text, detector) or "en"
    stop = _stopwords(language)
    segments = split_segments(text, stop)
    single = len(segments) == 1
    drafts = []
    for segment in segments:
        story = clean_story(
            to_paragraphs(segment.text),
            now=now,
            stopwords=stop,
            known_title=normalise_text(raw.title) if raw.title and single else None,
        )
        drafts.append(
            _Draft(
                paragraphs=story.paragraphs,
                title=story.title,
                authors=story.authors,
                dates=story.dates,
                relative_dates=story.relative_dates,
                url=segment.url or story.url,
            )
        )
    return drafts


def clean_article(
    raw: RawArticle,
    *,
    ingested_at: datetime,
    detector: Any = None,
    max_text_chars: int | None = None,
    max_lines: int | None = None,
    max_html_tags: int | None = None,
) -> list[CleanArticle]:
    """Clean one raw article into one ``CleanArticle`` per story it holds.

    HTML (``raw.html``, or ``raw.text`` that is a page) goes through trafilatura and our
    post-cleaning; Reuters-21578 SGML is split per record; other text is normalised, split into
    stories when it is a dump, and stripped of boilerplate. Title, authors and dates come from
    the text's structure unless ``raw`` gives them; ``published_at`` is never after
    ``ingested_at``; ``detector`` (from ``build_language_detector``) sets ``language``.

    Raises:
        Reject: ``empty_after_cleaning`` when no story text is left; ``too_long`` when a story's
            clean text has more than ``max_text_chars`` characters, plain text more than
            ``max_lines`` non-blank lines, or a page more than ``max_html_tags`` tags. Each
            line or element costs a fixed time (trafilatura, the line classifier), so these
            bound clean's time on one input as ``max_text_chars`` bounds the later stages'
            (README, "Bad input").
    """
    now = ingested_at if ingested_at.tzinfo else ingested_at.replace(tzinfo=UTC)
    parent_id = raw.id or _content_id(raw)
    page = raw.html or (raw.text if raw.text and looks_like_html(raw.text) else None)
    if page is not None:
        tags = page.count("<")  # an upper bound of the elements, counted without parsing
        if max_html_tags is not None and tags > max_html_tags:
            raise Reject("too_long", f"the page has up to {tags:,} tags; the limit is {max_html_tags:,}")
        drafts = _drafts_from_html(page, raw.url, now)
        kind = "html"
    elif raw.text and looks_like_sgml(raw.text):
        drafts = _drafts_from_sgml(raw.text, now)
        kind = "sgml"
    else:
        text = raw.text or ""
        if max_lines is not None:
            lines = _count_nonblank_lines(text, stop_after=max_lines)
            if lines > max_lines:
                raise Reject("too_long", f"more than {max_lines:,} non-blank lines; the limit is {max_lines:,}")
        drafts = _drafts_from_text(normalise_text(text), raw, now, detector)
        kind = "text"

    split = len(drafts) > 1
    urls_by_title = {d.title: d.url for d in drafts if d.title and d.url}
    articles = []
    for n, draft in enumerate(drafts, start=1):
        text = join_paragraphs(draft.paragraphs)
        if not words_of(text):
            continue
        if max_text_chars is not None and len(text) > max_text_chars:
            raise Reject("too_long", f"story {n} has {len(text):,} characters of clean text; "
                         f"the limit is {max_text_chars:,}")
        # A story pasted twice without its URL line is still that page: same headline, same URL.
        url = draft.url or (urls_by_title.get(draft.title) if draft.title else None)
        if url is None and not split:
            url = raw.url
        if raw.title and not split:
            draft.title = normalise_text(raw.title)
        published = not_in_future(raw.published_at, now=now) if raw.published_at else None
        if published is None:
            published = pick_published(draft.dates, draft.relative_dates, now=now)
        language = (raw.language or "")[:2].lower() or detect_language(text, detector)
        articles.append(
            CleanArticle(
                article_id=f"{parent_id}-{n}" if split else parent_id,
                parent_id=parent_id if split else None,
                part=n if split else None,
                url=url,
                source=source_domain(url) or source_domain(draft.host) or _source(raw.source),
                title=draft.title or None,
                authors=draft.authors,
                published_at=published,
                language=language,
                text=text,
                word_count=len(words_of(text)),
                ingested_at=now,
            )
        )
    if not articles:
        raise Reject("empty_after_cleaning", f"no story text left in the {kind} input")
    return articles


def _count_nonblank_lines(text: str, stop_after: int) -> int:
    """Non-blank lines of ``text``, counting no further than ``stop_after + 1``."""
    count = 0
    for line in text.splitlines():
        if line.strip():
            count += 1
            if count > stop_after:
                break
    return count


def _source(value: str | None) -> str | None:
    """``raw.source`` as a domain when it is one, else as given (e.g. "Reuters")."""
    if not value or not value.strip():
        return None
    return source_domain(value) or value.strip()
