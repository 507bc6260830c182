"""HTML extractor: a page (``raw.html``, or ``raw.text`` that is one) in, one draft out; pure.

trafilatura's main-text extraction and metadata, then our own post-cleaning of the furniture it
left.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

import trafilatura
from trafilatura.settings import Document

from services.clean.boilerplate import line_kind
from services.clean.extractors.base import Draft, ExtractContext
from services.clean.metadata.bylines import parse_byline
from services.clean.metadata.dates import find_dates
from services.clean.normalise import normalise_text, to_paragraphs
from shared.errors import Reject
from shared.linear import compile_linear
from shared.schemas import RawArticle

# RE2: in re, a run of comments before a non-HTML start ("<!---->" * 30 + "x") backtracked
# exponentially, since a lazy comment body may also swallow the comments after it.
_HTML_START = compile_linear(
    r"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)(?:\W|$)",
    re.IGNORECASE | re.DOTALL,
)
# Kept in re: findall counts the tags, so the \b after a name must not consume the next "<"; no
# repetition at all (one attempt per "<"), and it reads at most 20,000 characters.
_TAGS = re.compile(
    r"</?(?:p|div|span|a|br|article|section|h[1-6]|ul|li|table|script)\b", re.IGNORECASE
)
# Kept in re (Unicode \b in split()); no repetition at all: one attempt per character.
_AUTHOR_SPLIT = re.compile(r";|\band\b")

# Post-cleaning drops only kinds that are never story text on any page. Others (captions,
# credits, dates) are often part of the publishers' own article body, and the benchmark's gold
# keeps them, so dropping them costs recall.
_HTML_DROP = frozenset(
    {
        "ad",
        "contact",
        "comment",
        "comment_form",
        "donation",
        "promo",
        "share",
        "read_time",
        "related",
        "read_more",
        "nav",
        "url",
    }
)

# trafilatura logs a warning for every page it finds too short; the stage reports that itself.
logging.getLogger("trafilatura").setLevel(logging.ERROR)


def looks_like_html(text: str) -> bool:
    """Whether submitted "text" is really an HTML page (starts like one or is mostly tags)."""
    if _HTML_START.match(text[:2000]):
        return True
    sample = text[:20000]
    return len(_TAGS.findall(sample)) >= 10 and sample.count("<") > len(sample) / 200


@dataclass
class HtmlArticle:
    """What came out of one page."""

    paragraphs: list[str]
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    date: str | None = None  # ISO date string as trafilatura/htmldate give it
    sitename: str | None = None
    hostname: str | None = None
    url: str | None = None
    dropped: list[tuple[str, str]] = field(default_factory=list)


def _authors(value: str | None) -> list[str]:
    if not value:
        return []
    names = [a.strip() for a in _AUTHOR_SPLIT.split(value) if a.strip()]
    return list(dict.fromkeys(names))


def extract_html(page: str, *, url: str | None = None) -> HtmlArticle:
    """Extract the article body and metadata of one HTML page.

    trafilatura runs with ``favor_precision`` and without comments (measured best on the
    article-extraction benchmark); our post-cleaning then drops page furniture it left.
    """
    doc = trafilatura.bare_extraction(
        page,
        url=url,
        with_metadata=True,
        include_comments=False,
        favor_precision=True,
        deduplicate=False,
    )
    if not isinstance(doc, Document) or not doc.text:
        return HtmlArticle(paragraphs=[], url=url)
    paragraphs = to_paragraphs(normalise_text(doc.text))
    title = normalise_text(doc.title) if doc.title else None
    authors = _authors(normalise_text(doc.author) if doc.author else None)
    kept: list[str] = []
    dropped: list[tuple[str, str]] = []
    for i, text in enumerate(paragraphs):
        kind = line_kind(text)
        if kind not in _HTML_DROP and i < 3 and title and text == title:
            kind = "title"  # the headline repeated as the first line of the body
        byline = parse_byline(text) if i < 3 and authors and kind not in _HTML_DROP else None
        if byline and byline[1] and set(byline[0]) <= set(authors):
            kind = "byline"  # "By Jane Doe" printed above the body
        if kind in _HTML_DROP or kind in {"title", "byline"}:
            dropped.append((kind or "", text))
        else:
            kept.append(text)
    return HtmlArticle(
        paragraphs=kept,
        title=title,
        authors=authors,
        date=doc.date,
        sitename=doc.sitename,
        hostname=doc.hostname,
        url=doc.url or url,
        dropped=dropped,
    )


class HtmlExtractor:
    """HTML: ``raw.html`` when given (it wins over ``raw.text``), else ``raw.text`` that is a page."""

    name = "html"

    def accepts(self, raw: RawArticle) -> bool:
        """Whether ``raw`` has HTML, or text that starts like a page or is mostly tags."""
        return bool(raw.html) or bool(raw.text and looks_like_html(raw.text))

    def extract(self, raw: RawArticle, context: ExtractContext) -> list[Draft]:
        """Return the page's one story: body paragraphs, title, authors, date, URL and host.

        Raises:
            Reject: ``too_long`` when the page has more than ``context.max_html_tags`` tags.
        """
        page = raw.html or raw.text or ""
        tags = page.count("<")  # an upper bound of the elements, counted without parsing
        limit = context.max_html_tags
        if limit is not None and tags > limit:
            raise Reject("too_long", f"the page has up to {tags:,} tags; the limit is {limit:,}")
        article = extract_html(page, url=raw.url)
        dates: list[datetime | None] = []
        if article.date:
            dates.append(find_dates(article.date, now=context.now)[0])
        return [
            Draft(
                paragraphs=article.paragraphs,
                title=article.title,
                authors=article.authors,
                dates=dates,
                url=article.url,
                host=article.hostname,
            )
        ]
