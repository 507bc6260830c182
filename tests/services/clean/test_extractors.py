"""Input formats as a list of extractors: which one reads an input, and what the core decides for
every format alike (ids, dates, source, the empty-result dead letter)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.clean.core import clean_article, pick_extractor
from services.clean.extractors.base import Draft, ExtractContext
from services.clean.extractors.sgml import SgmlExtractor
from services.clean.extractors.text import TextExtractor
from shared.errors import Reject
from shared.schemas import RawArticle

STORY = (
    "Military engineers began building a pontoon bridge across the river on Monday, officials "
    "said, as the army moved heavy equipment closer to the front line."
)
PAGE = (
    "<!DOCTYPE html><html><head><title>Bridge</title></head><body><article>"
    f"<p>{STORY}</p></article></body></html>"
)
RECORD = (
    '<REUTERS NEWID="1"><DATE> 3-MAR-1987 09:12:44.10</DATE><TEXT><TITLE>BRIDGE BUILT</TITLE>'
    f"<BODY>{STORY}\n Reuter\n&#3;</BODY></TEXT></REUTERS>"
)


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (RawArticle(html=PAGE), "html"),
        (RawArticle(text=PAGE), "html"),  # "text" that is a page is read as a page
        (RawArticle(html=PAGE, text=RECORD), "html"),  # given HTML wins over the text
        (RawArticle(text=RECORD), "sgml"),
        (RawArticle(text=f"<REUTERS> was the tag. {STORY}"), "text"),  # no closing tag
        (RawArticle(text=STORY), "text"),
    ],
    ids=["html", "text-that-is-a-page", "html-and-text", "sgml", "unclosed-sgml", "text"],
)
def test_each_input_is_read_by_the_first_extractor_that_accepts_it(raw, name):
    assert pick_extractor(raw).name == name


class _Fixed:
    """An extractor that accepts everything and returns the drafts it was given."""

    name = "fixed"

    def __init__(self, *drafts: Draft) -> None:
        self.drafts = list(drafts)

    def accepts(self, raw: RawArticle) -> bool:
        return True

    def extract(self, raw: RawArticle, context: ExtractContext) -> list[Draft]:
        return self.drafts


def test_an_extractor_put_first_reads_the_input_and_the_core_decides_the_rest(now):
    future = datetime(2031, 1, 1, tzinfo=UTC)
    past = datetime(2019, 3, 1, 8, tzinfo=UTC)
    fixed = _Fixed(
        Draft(paragraphs=[STORY], title="Bridge", dates=[future, past], host="news.bbc.co.uk"),
        Draft(paragraphs=["", "—"], title="No words"),
        Draft(paragraphs=[STORY, STORY], title="Twice"),
    )
    extractors = (fixed, SgmlExtractor(), TextExtractor())
    articles = clean_article(
        RawArticle(id="p", text=RECORD), ingested_at=now, extractors=extractors
    )
    # A draft without a word gives no article; the part numbers still follow the drafts.
    assert [(a.article_id, a.part) for a in articles] == [("p-1", 1), ("p-3", 3)]
    first = articles[0]
    assert first.published_at == past  # the future date is dropped
    assert first.source == "bbc.co.uk"
    assert first.text == STORY
    assert articles[1].text == f"{STORY}\n\n{STORY}"


def test_a_list_without_a_catch_all_raises_lookup_error(now):
    with pytest.raises(LookupError, match="sgml"):
        clean_article(RawArticle(text=STORY), ingested_at=now, extractors=(SgmlExtractor(),))


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (RawArticle(html="<html><body><nav><a href='/'>Home</a></nav></body></html>"), "html"),
        (RawArticle(text='<REUTERS NEWID="2"><TEXT><TITLE>BRIEF</TITLE></TEXT></REUTERS>'), "sgml"),
        (RawArticle(text="ADVERTISEMENT\n\nShare this article"), "text"),
    ],
    ids=["html", "sgml", "text"],
)
def test_input_without_story_text_is_rejected_naming_its_format(now, raw, name):
    with pytest.raises(Reject) as info:
        clean_article(raw, ingested_at=now)
    assert info.value.reason == "empty_after_cleaning"
    assert info.value.detail == f"no story text left in the {name} input"
