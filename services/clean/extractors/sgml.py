"""Reuters-21578 SGML extractor: text holding <REUTERS> records in, one draft per record out; pure."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from services.clean.extractors.base import Draft, ExtractContext
from services.clean.metadata.dates import find_dates
from services.clean.metadata.language import stopwords_for
from services.clean.normalise import normalise_text
from services.clean.story import clean_story
from shared.linear import compile_linear
from shared.schemas import RawArticle

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


def strip_signoff(body: str) -> str:
    """Return a record's body without its closing "Reuter" and the space before it.

    The sign-off may be followed by the end-of-text code (``&#3;`` or ``\\x03``), which goes too;
    a body without a sign-off is returned unchanged.

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
    body = strip_signoff(body)
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


class SgmlExtractor:
    """Reuters-21578 SGML: every <REUTERS> record is a story with its own title and date."""

    name = "sgml"

    def accepts(self, raw: RawArticle) -> bool:
        """Whether ``raw.text`` holds Reuters-21578 SGML records."""
        return bool(raw.text and looks_like_sgml(raw.text))

    def extract(self, raw: RawArticle, context: ExtractContext) -> list[Draft]:
        """Return one draft per record: title and date from their tags, the body cleaned as text.

        The wire is English: the English stop words serve the boilerplate classifier.
        """
        drafts = []
        stop = stopwords_for("en")
        for record in parse_sgml(raw.text or ""):
            title = normalise_text(record.title) if record.title else None
            paragraphs = [p for p in (normalise_text(p) for p in record.paragraphs) if p]
            story = clean_story(paragraphs, now=context.now, stopwords=stop, known_title=title)
            dates = [find_dates(record.date, now=context.now)[0]] if record.date else []
            drafts.append(
                Draft(paragraphs=story.paragraphs, title=title, authors=story.authors, dates=dates)
            )
        return drafts
