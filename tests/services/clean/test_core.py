"""The clean stage's pure core: decoding, seeds against hand-checked golden text, metadata, dumps,
Reuters SGML, HTML, normalisation and bad input."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.clean.core import clean_article, decode_raw
from services.clean.normalise import normalise_text
from services.clean.settings import CleanSettings
from shared.errors import Reject
from shared.schemas import RawArticle
from tests.services.clean.factories import (
    SEED_INGEST,
    clean_seed,
    golden,
    seed_path,
    shared_data,
)

# --- decode_raw ------------------------------------------------------------------------------


def test_json_object_is_validated_as_raw_article():
    raw = decode_raw(
        json.dumps({"id": "a1", "url": "https://x.example/a", "text": "Body."}).encode()
    )
    assert (raw.id, raw.url, raw.text) == ("a1", "https://x.example/a", "Body.")


def test_plain_utf8_text_becomes_raw_article_text():
    assert decode_raw(b"Troops crossed the border at dawn.").text == (
        "Troops crossed the border at dawn."
    )


def test_json_object_without_text_or_html_raises_validation_error():
    with pytest.raises(ValidationError):
        decode_raw(b'{"title": "Only a title"}')


@pytest.mark.parametrize("value", [b"[1, 2, 3]", b"42", b"null"])
def test_json_that_is_not_an_object_is_rejected(value):
    with pytest.raises(Reject) as info:
        decode_raw(value)
    assert info.value.reason == "not_an_object"


def test_malformed_json_object_is_rejected_with_its_position():
    with pytest.raises(Reject) as info:
        decode_raw(b'{"text": "unterminated}')
    assert info.value.reason == "invalid_json"
    assert "column" in info.value.detail


@pytest.mark.parametrize(
    "value",
    [
        b"\x00\x01\x02binary\x00data",
        b"%PDF-1.7 ...",
        b"\x89PNG\r\n\x1a\n....",
        bytes(range(32)) * 10,
    ],
)
def test_binary_input_is_rejected(value):
    with pytest.raises(Reject) as info:
        decode_raw(value)
    assert info.value.reason == "binary"


def test_input_that_is_not_utf8_is_rejected_with_the_offset():
    with pytest.raises(Reject) as info:
        decode_raw("Café in São Paulo".encode("latin-1"))
    assert info.value.reason == "not_utf8"
    assert "offset 3" in info.value.detail


@pytest.mark.parametrize("value", [b"", b"   \n\t  \r\n"])
def test_empty_input_is_rejected(value):
    with pytest.raises(Reject) as info:
        decode_raw(value)
    assert info.value.reason == "empty"


def _five_megabytes() -> bytes:
    paragraph = (
        "Armoured columns moved north along the coastal road on day {n}, residents said, as the "
        "ministry confirmed that two brigades had been redeployed to the border region.\n\n"
    )
    count = 5_000_000 // len(paragraph) + 1
    text = "Brigades move north\n\n" + "".join(paragraph.format(n=n) for n in range(count))
    return text.encode()[:5_000_000]


def test_five_megabyte_input_is_rejected_as_oversize_with_the_default_limit():
    with pytest.raises(Reject) as info:
        decode_raw(_five_megabytes(), max_bytes=CleanSettings().clean_max_bytes)
    assert info.value.reason == "oversize"
    assert "5,000,000 bytes" in info.value.detail


def test_five_megabyte_input_is_cleaned_when_the_limit_is_raised():
    raw = decode_raw(_five_megabytes(), max_bytes=6_000_000)
    [article] = clean_article(raw, ingested_at=SEED_INGEST)
    assert article.title == "Brigades move north"
    assert article.word_count > 700_000


# --- seeds against golden text (each line reviewed by hand) ----------------------------------


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003"])
def test_seed_cleans_to_its_golden_text(prefix):
    [article] = clean_seed(prefix)
    assert article.text == golden(f"{prefix}.txt")
    assert article.word_count == len(re.findall(r"[^\W\d_](?:[\w'’.-]*\w)?", article.text))


def test_dump_seed_splits_into_its_six_story_parts_matching_golden_text():
    articles = clean_seed("004")
    assert [a.part for a in articles] == [1, 2, 3, 4, 5, 6]
    for article in articles:
        assert article.text == golden(f"004-{article.part}.txt")


# Every line of furniture in the seeds, as the golden review listed it: none may survive.
SEED_FURNITURE = {
    "000": [
        "ADVERTISEMENT",
        "To contact the",
        "bloomberg.net",
        "©2019 Bloomberg L.P.",
        "(Bloomberg) --",
    ],
    "001": ["independent media platform", "Please contribute", "Moscow |"],
    "002": [
        "ADVERTISEMENT",
        "With assistance from",
        "To contact the",
        "©2019",
        "(Bloomberg)",
        "Troops Land to Service",
    ],
    "003": [
        "Check Also",
        "Houthi",
        "Red Sea",
        "Leave a Reply",
        "will not be published",
        "Required fields",
    ],
    "004": [
        "http",
        "World News",
        "7 days ago",
        "Tom Balmforth, Maxim Rodionov",
        "Min Read",
        "REUTERS/",
        "Related Coverage",
        "F-35",
        "Reporting by",
        "Our Standards",
        "Trust Principles",
        "(Reuters)",
        "Andrew Roth in Moscow",
        "GMT",
        "Shares",
        "1,606",
        "Photograph:",
        "Barter and dollars",
        "Read more",
        "fears crackdown",
        "contributed to this report",
        "By Alex Ward",
        "@AlexWardVox",
        "[email protected]",
        "Getty Images",
        "\nShare\n",
    ],
}


@pytest.mark.parametrize("prefix", sorted(SEED_FURNITURE))
def test_no_furniture_line_of_the_seeds_survives(prefix):
    for article in clean_seed(prefix):
        for furniture in SEED_FURNITURE[prefix]:
            assert furniture not in article.text, (article.part, furniture)
        assert article.title is None or article.title not in article.text


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_every_story_sentence_of_the_seed_is_kept(prefix):
    """Every sentence of the seed that is not furniture (by the golden review) is in the output."""
    source = normalise_text(seed_path(prefix).read_text(encoding="utf-8"))
    articles = clean_seed(prefix)
    output = " ".join(a.text for a in articles)
    titles = {a.title for a in articles}
    furniture = SEED_FURNITURE[prefix]
    for line in source.split("\n"):
        if line in titles:
            continue  # metadata, checked by the metadata tests
        sentences = re.split(r"(?<=[.!?”])\s+(?=[A-Z“])", line)
        for sentence in sentences:
            if len(sentence.split()) < 8 or any(f.strip() in line for f in furniture):
                continue
            if "contact" in line or "donation" in line or "…" in line:
                continue
            assert sentence in output, sentence


def test_bloomberg_seed_metadata_comes_from_its_structure():
    [article] = clean_seed("000")
    assert article.title == "Russia Defends Deployment in Venezuela After Trump's ‘Get Out’"
    assert article.authors == ["Stepan Kravchenko", "Henry Meyer"]
    assert article.text.startswith("Russia defended its deployment")
    assert article.source is None and article.published_at is None


def test_dump_parts_carry_their_own_url_source_title_authors_and_date():
    articles = clean_seed("004")
    parent = articles[0].parent_id
    assert [a.article_id for a in articles] == [f"{parent}-{n}" for n in range(1, 7)]
    assert [a.source for a in articles] == ["reuters.com", "theguardian.com", "vox.com"] * 2
    reuters, guardian, vox = articles[:3]
    assert reuters.title == 'Russia says it sent "specialists" to Venezuela, rebuffs Trump'
    assert reuters.authors == ["Tom Balmforth", "Maxim Rodionov"]
    assert reuters.published_at == datetime(2019, 3, 28, 18, 0, tzinfo=UTC)
    assert (
        guardian.title == "Russian military arrive in Venezuela to discuss 'training and strategy'"
    )
    assert guardian.authors == ["Andrew Roth"]
    # "First published" wins over the later update time on the same line.
    assert guardian.published_at == datetime(2019, 3, 25, 4, 13, tzinfo=UTC)
    assert vox.title == "Why Russia just sent troops to Venezuela"
    assert vox.authors == ["Alex Ward"]
    assert vox.published_at == datetime(2019, 3, 27, 16, 50, tzinfo=UTC)  # 12:50pm EDT
    assert (
        vox.url
        == "https://www.vox.com/2019/3/27/18283807/venezuela-russia-troops-trump-maduro-guaido"
    )


def test_story_pasted_again_without_its_url_line_keeps_that_url():
    articles = clean_seed("004")
    assert articles[3].url == articles[0].url
    assert articles[3].text == articles[0].text


def test_language_is_detected(detector):
    [article] = clean_seed("000", detector=detector)
    assert article.language == "en"
    german = (
        "Die Bundeswehr verlegt weitere Soldaten nach Litauen. Das Verteidigungsministerium "
        "bestätigte am Dienstag, dass die Brigade bis Ende des Jahres einsatzbereit sein soll."
    )
    [de] = clean_article(RawArticle(text=german), ingested_at=SEED_INGEST, detector=detector)
    assert de.language == "de"


# --- ids, dates and other metadata -----------------------------------------------------------

STORY = (
    "Military engineers began building a pontoon bridge across the river on Monday, officials "
    "said, as the army moved heavy equipment closer to the front line."
)


def test_given_id_is_kept_for_a_single_story(clean_text):
    [article] = clean_text(STORY, id="abc-123")
    assert (article.article_id, article.parent_id, article.part) == ("abc-123", None, None)


def test_missing_id_is_a_stable_hash_of_the_normalised_input(clean_text):
    [a] = clean_text(STORY)
    [b] = clean_text("  " + STORY.replace(" ", "  ") + "\n")
    assert a.article_id == b.article_id
    assert re.fullmatch(r"[0-9a-f]{16}", a.article_id)


def test_relative_date_is_resolved_against_the_ingest_time(clean_text, now):
    [article] = clean_text(f"Bridge built under fire\n\n2 hours ago\n\n{STORY}")
    assert article.published_at == now - timedelta(hours=2)


def test_absolute_date_wins_over_the_relative_one(clean_text):
    [article] = clean_text(f"Bridge built\n\nApril 2, 2019 / 9:15 AM / 2 days ago\n\n{STORY}")
    assert article.published_at == datetime(2019, 4, 2, 9, 15, tzinfo=UTC)


def test_published_date_in_the_future_is_dropped(clean_text):
    [article] = clean_text(f"Bridge built\n\nMay 1, 2031\n\n{STORY}")
    assert article.published_at is None
    raw = RawArticle(text=STORY, published_at=datetime(2030, 1, 1, tzinfo=UTC))
    [given] = clean_article(raw, ingested_at=SEED_INGEST)
    assert given.published_at is None


def test_raw_metadata_is_used_when_given(clean_text):
    [article] = clean_text(
        STORY,
        title="Given title",
        source="https://news.example.co.uk/x",
        url="https://www.example.org/story",
        language="fr",
    )
    assert article.title == "Given title"
    assert article.url == "https://www.example.org/story"
    assert article.source == "example.org"  # the URL's domain wins over raw.source
    assert article.language == "fr"


def test_source_comes_from_raw_source_without_url(clean_text):
    [article] = clean_text(STORY, source="https://news.bbc.co.uk/")
    assert article.source == "bbc.co.uk"


def test_text_left_empty_by_cleaning_is_rejected(clean_text):
    with pytest.raises(Reject) as info:
        clean_text("ADVERTISEMENT\n\nShare this article\n\n© 2024 Example Media")
    assert info.value.reason == "empty_after_cleaning"


# --- normalisation ---------------------------------------------------------------------------


def test_mojibake_entities_control_codes_and_whitespace_are_normalised(clean_text):
    text = (
        "The minister said the â€œrapid reaction forceâ€\x9d would deploy &amp; stay\x03 "
        "for\u00a0six   months, according to the statement released on Tuesday.\r\n\r\n\r\n"
        "Officials in Cafe\u0301 Street said 3 &lt; 4 battalions had arrived.\x03"
    )
    [article] = clean_text(text)
    assert article.text == (
        "The minister said the “rapid reaction force” would deploy & stay for six months, "
        "according to the statement released on Tuesday.\n\n"
        "Officials in Café Street said 3 < 4 battalions had arrived."
    )


def test_hard_wrapped_paragraphs_are_rejoined(clean_text):
    wrapped = (
        "The defence ministry said on Thursday that three battalions of\n"
        "infantry and an engineering company would be moved to the eastern\n"
        "border region over the coming weeks as part of a planned rotation\n"
        "of forces.\n\nA second paragraph follows here with more detail on the move."
    )
    [article] = clean_text(wrapped)
    assert article.text.split("\n\n")[0].endswith("as part of a planned rotation of forces.")


# --- Reuters-21578 SGML ----------------------------------------------------------------------

SGML = """<REUTERS TOPICS="NO" NEWID="9001">
<DATE> 3-MAR-1987 09:12:44.10</DATE>
<UNKNOWN>&#5;&#5;&#5;F
&#22;&#22;&#1;f0001&#31;reute
r f BC-TEST-CORP   03-03 0042</UNKNOWN>
<TEXT>&#2;
<TITLE>TEST CORP &lt;TST> SETS DIVIDEND</TITLE>
<DATELINE>    NEW YORK, March 3 - </DATELINE><BODY>Test Corp &lt;TST> said its board
declared a quarterly dividend of 10 cts a share, payable April
1 to holders of record March 20.
    The company said earnings for the year would be reported
later this month.
 Reuter
&#3;</BODY></TEXT>
</REUTERS>
<REUTERS TOPICS="NO" NEWID="9002">
<DATE> 3-MAR-1987 09:15:00.00</DATE>
<TEXT TYPE="BRIEF">&#2;
******<TITLE>BRIEF ITEM WITHOUT BODY</TITLE>
&#3;</TEXT>
</REUTERS>"""


def test_reuters_sgml_record_is_decoded_and_unwrapped(clean_text):
    [article] = clean_text(SGML)
    assert article.title == "TEST CORP <TST> SETS DIVIDEND"
    assert article.published_at == datetime(1987, 3, 3, 9, 12, 44, 100000, tzinfo=UTC)
    assert article.text == (
        "Test Corp <TST> said its board declared a quarterly dividend of 10 cts a share, "
        "payable April 1 to holders of record March 20.\n\n"
        "The company said earnings for the year would be reported later this month."
    )


def test_reuters_21578_file_splits_into_clean_records():
    path = shared_data("reuters21578", "reut2-000.sgm")
    raw = RawArticle(text=path.read_bytes().decode("utf-8", errors="replace"))
    articles = clean_article(raw, ingested_at=SEED_INGEST)
    assert len(articles) > 900  # records with a body; title-only briefs are skipped
    first = articles[0]
    assert first.title == "BAHIA COCOA REVIEW"
    assert first.text.startswith("Showers continued throughout the week in the Bahia cocoa zone,")
    assert first.published_at == datetime(1987, 2, 26, 15, 1, 1, 790000, tzinfo=UTC)
    for article in articles:
        assert not re.search(r"&#\d+;|&lt;|[\x00-\x08\x0b-\x1f]", article.text)
        assert not article.text.rstrip().endswith("Reuter")


def test_bbc_articles_with_added_furniture_come_out_as_the_original_story():
    """Text the cleaner has never seen: BBC stories wrapped in furniture of every kind."""
    root = shared_data("bbc", "bbc")
    paths = sorted(root.glob("*/*.txt"))[::40]
    furniture_top = (
        "Advertisement\n\n{title}\n\nBy Jane Example, Business reporter\n\n4 min read\n\n"
    )
    furniture_bottom = (
        "\n\nRelated Coverage\n\nMarkets rally as oil prices slide\n\nShare this article\n\n"
        "© 2005 Example News Ltd\n\nLeave a Reply\n\n"
        "Your email address will not be published. Required fields are marked *"
    )
    checked = 0
    for path in paths:
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        title, _, body = text.partition("\n")
        page = furniture_top.format(title=title.strip()) + body.strip() + furniture_bottom
        [article] = clean_article(RawArticle(text=page), ingested_at=SEED_INGEST)
        assert article.text == "\n\n".join(normalise_text(body).split("\n\n")), path
        assert article.title == normalise_text(title.strip())
        assert article.authors == ["Jane Example"]
        checked += 1
    assert checked >= 50


# --- HTML ------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html><html><head><title>Engineers bridge the river | Example News</title>
<meta name="author" content="Maria Example"><meta property="og:site_name" content="Example News">
<meta property="article:published_time" content="2019-03-30T08:00:00Z"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Engineers bridge the river</h1>
<p>Military engineers began building a pontoon bridge across the river on Monday, officials
said, as the army moved heavy equipment closer to the front line.</p>
<p>The bridge, which can carry tanks, was expected to be finished within two days, according to
a statement from the defence ministry, which gave no further details.</p>
<p>Residents of nearby villages said they had heard heavy vehicles moving through the night and
that roads leading to the river had been closed to civilian traffic since the weekend.</p>
<p>Advertisement</p>
<p>Local officials said schools would stay open and urged people to remain calm.</p>
</article><footer>© 2019 Example News. All rights reserved.</footer></body></html>"""


def test_html_page_gives_body_and_metadata(clean_text):
    [article] = clean_text(PAGE, url="https://www.example-news.com/world/bridge")
    assert article.title.startswith("Engineers bridge the river")
    assert article.authors == ["Maria Example"]
    assert article.published_at == datetime(2019, 3, 30, tzinfo=UTC)
    assert article.source == "example-news.com"
    assert article.text.startswith("Military engineers began building a pontoon bridge")
    assert "Advertisement" not in article.text and "©" not in article.text
    assert article.text.endswith("urged people to remain calm.")
    assert article.text.count("\n\n") == 3


# ---------------------------------------------------------------- size limits (README, "Bad input")

STORY = "Soldiers arrived at the base on Monday, officials said, and more are expected this week."


@pytest.mark.parametrize(
    ("raw", "limits", "detail"),
    [
        (
            RawArticle(text="\n\n".join(f"{STORY} Report {n} of 40." for n in range(40))),
            {"max_text_chars": 1_000},
            "characters of clean text",
        ),
        (RawArticle(text=(STORY + "\n") * 40), {"max_lines": 30}, "non-blank lines"),
        (
            RawArticle(html="<html><body>" + f"<p>{STORY}</p>" * 40 + "</body></html>"),
            {"max_html_tags": 50},
            "tags",
        ),
    ],
    ids=["text_chars", "lines", "html_tags"],
)
def test_inputs_over_a_limit_are_too_long_and_within_it_are_cleaned(now, raw, limits, detail):
    with pytest.raises(Reject) as rejected:
        clean_article(raw, ingested_at=now, **limits)
    assert rejected.value.reason == "too_long" and detail in str(rejected.value)
    roomy = {name: limit * 100 for name, limit in limits.items()}
    (article,) = clean_article(raw, ingested_at=now, **roomy)
    assert STORY in article.text


def test_blank_lines_do_not_count_towards_the_line_limit(now):
    raw = RawArticle(text=(STORY + "\n\n\n\n") * 20)
    assert clean_article(raw, ingested_at=now, max_lines=20)
