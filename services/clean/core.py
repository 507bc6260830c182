"""Clean stage core: raw bytes -> RawArticle -> CleanArticle(s); rejects carry a reason; pure.

Consumes ``RawArticle`` (JSON) or plain UTF-8 text, produces one ``CleanArticle`` per story, and
raises ``Reject`` (dead-lettered by the app) for input it cannot use.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from services.clean.boilerplate import words_of
from services.clean.extractors.base import Draft, ExtractContext, Extractor
from services.clean.extractors.html import HtmlExtractor
from services.clean.extractors.sgml import SgmlExtractor
from services.clean.extractors.text import TextExtractor
from services.clean.metadata.dates import not_in_future, pick_published
from services.clean.metadata.language import build_language_detector, detect_language
from services.clean.metadata.source import normalise_source, source_domain
from services.clean.normalise import join_paragraphs, normalise_text
from shared.errors import Reject
from shared.linear import compile_linear
from shared.schemas import CleanArticle, RawArticle

__all__ = ["EXTRACTORS", "build_language_detector", "clean_article", "decode_raw", "pick_extractor"]

# The input formats, asked in this order; the first that accepts a raw article extracts it. HTML
# comes first (``raw.html`` wins over ``raw.text``, and text that is a page is a page), SGML
# before plain text, and plain text, which accepts anything, last.
EXTRACTORS: tuple[Extractor, ...] = (HtmlExtractor(), SgmlExtractor(), TextExtractor())


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
    _reject_binary(value)
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
        raw = _decode_json(stripped)
        if raw is not None:
            return raw
    return RawArticle(text=text)


def _reject_binary(value: bytes) -> None:
    """Reject a known binary format, UTF-16, NUL bytes or many control codes (``Reject``)."""
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


def _decode_json(stripped: str) -> RawArticle | None:
    """The ``RawArticle`` of JSON-shaped text; None for text that only starts with a bracket."""
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
        return None  # "[Photo] Troops ..." is text that merely starts with a bracket
    except ValueError as exc:
        # Parses, but Python will not hold it: an integer of more than 4,300 digits.
        raise Reject("invalid_json", str(exc)) from exc
    if not isinstance(data, dict):
        raise Reject("not_an_object", f"JSON {type(data).__name__}, expected an object")
    raw = RawArticle.model_validate(data)
    _check_encodable(raw)
    return raw


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


def _content_id(raw: RawArticle) -> str:
    """16 hex digits of the SHA-256 of the whitespace-normalised input: same input, same id."""
    body = raw.html or raw.text or ""
    normalised = " ".join(body.split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:16]


def pick_extractor(raw: RawArticle, extractors: Sequence[Extractor] = EXTRACTORS) -> Extractor:
    """Return the first of ``extractors`` that accepts ``raw``.

    Raises:
        LookupError: none accepts it (a list without a catch-all last: a bug, not bad input).
    """
    for extractor in extractors:
        if extractor.accepts(raw):
            return extractor
    raise LookupError(f"no extractor accepts the input (asked: {[e.name for e in extractors]})")


def clean_article(
    raw: RawArticle,
    *,
    ingested_at: datetime,
    detector: Any = None,
    max_text_chars: int | None = None,
    max_lines: int | None = None,
    max_html_tags: int | None = None,
    extractors: Sequence[Extractor] = EXTRACTORS,
) -> list[CleanArticle]:
    """Clean one raw article into one ``CleanArticle`` per story it holds.

    The first of ``extractors`` that accepts ``raw`` reads it (``pick_extractor``): by default
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
    extractor = pick_extractor(raw, extractors)
    context = ExtractContext(
        now=now, detector=detector, max_lines=max_lines, max_html_tags=max_html_tags
    )
    drafts = extractor.extract(raw, context)

    split = len(drafts) > 1
    urls_by_title = {d.title: d.url for d in drafts if d.title and d.url}
    articles = []
    for n, draft in enumerate(drafts, start=1):
        text = join_paragraphs(draft.paragraphs)
        if not words_of(text):
            continue
        if max_text_chars is not None and len(text) > max_text_chars:
            raise Reject(
                "too_long",
                f"story {n} has {len(text):,} characters of clean text; "
                f"the limit is {max_text_chars:,}",
            )
        # A story pasted twice without its URL line is still that page: same headline, same URL.
        url = draft.url or (urls_by_title.get(draft.title) if draft.title else None)
        if url is None and not split:
            url = raw.url
        title = normalise_text(raw.title) if raw.title and not split else draft.title
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
                source=_source(url, draft, raw),
                title=title or None,
                authors=draft.authors,
                published_at=published,
                language=language,
                text=text,
                word_count=len(words_of(text)),
                ingested_at=now,
            )
        )
    if not articles:
        raise Reject("empty_after_cleaning", f"no story text left in the {extractor.name} input")
    return articles


def _source(url: str | None, draft: Draft, raw: RawArticle) -> str | None:
    """Return the URL's domain, else the page host's, else ``raw.source`` (a domain or a name)."""
    return source_domain(url) or source_domain(draft.host) or normalise_source(raw.source)
