"""One test per kind of page furniture, on a story written for these tests (not from the seeds).

Each test wraps the same five-paragraph story in one kind of furniture, as scraped pages print
it, and checks that the furniture is gone while every story paragraph survives unchanged.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.clean.boilerplate import classify_paragraphs, line_kind
from services.clean.metadata.language import stopwords_for
from services.clean.metadata.source import strip_lede_dateline

TITLE = "Port strike halts Rotterdam container traffic"
STORY = [
    (
        "Dock workers at the port of Rotterdam walked off the job on Tuesday, halting the loading of "
        "container ships for the second time this month, union officials said."
    ),
    (
        "The strike, called by the FNV union over pay and automation plans, left at least 40 vessels "
        "waiting at anchor in the North Sea by the evening, according to the harbour authority."
    ),
    (
        "“We are not against new cranes, we are against losing our jobs to them. Support us,” said "
        "union spokesman Niek Stam, who added that talks with employers broke down on Monday night."
    ),
    (
        "The port handles about 15 million containers a year and is Europe's largest. A previous "
        "24-hour stoppage in March cost operators an estimated 20 million euros."
    ),
    (
        "Employers' group VNO said it regretted the action and would return to the table if the "
        "union dropped its demand for a job guarantee until 2030."
    ),
]


def page(*, top=(), middle=(), bottom=(), lede_prefix="") -> str:
    """The story as a scraped page: title, furniture at the top, middle and bottom."""
    body = [lede_prefix + STORY[0], *STORY[1:3], *middle, *STORY[3:]]
    return "\n\n".join([TITLE, *top, *body, *bottom])


def assert_story_intact(text: str) -> None:
    """Every story paragraph is in the output, unchanged and in order."""
    assert text.split("\n\n") == STORY


def assert_clean(articles, furniture) -> None:
    assert len(articles) == 1
    text = articles[0].text
    assert_story_intact(text)
    for line in furniture:
        assert line not in text


def test_ad_markers_are_removed(clean_text):
    furniture = ["Advertisement", "Story continues below advertisement", "SPONSORED CONTENT"]
    assert_clean(clean_text(page(top=furniture[:1], middle=furniture[1:])), furniture)


def test_contact_the_reporter_block_is_removed_and_names_the_author(clean_text):
    furniture = [
        "To contact the reporter on this story: Pieter de Vries in Amsterdam at pdevries@example.com",
        "To contact the editor responsible for this story: Anne Smit at asmit@example.com",
    ]
    articles = clean_text(page(bottom=furniture))
    assert_clean(articles, furniture)
    assert articles[0].authors == ["Pieter de Vries"]


def test_email_lines_are_removed(clean_text):
    furniture = ["Send news tips to newsdesk@example.org", "Email: j.doe@example.com"]
    assert_clean(clean_text(page(bottom=furniture)), furniture)


def test_copyright_lines_are_removed(clean_text):
    furniture = [
        "© 2024 Example Media Group",
        "Copyright 2024 The Example Times. All rights reserved.",
    ]
    assert_clean(clean_text(page(bottom=furniture)), furniture)


def test_related_coverage_heading_and_its_headlines_are_removed(clean_text):
    furniture = [
        "Related Coverage",
        "Antwerp braces for knock-on delays",
        "Shipping rates climb as Red Sea detours continue",
    ]
    assert_clean(clean_text(page(middle=furniture)), furniture)


def test_read_more_teasers_are_removed(clean_text):
    furniture = [
        "Dutch inflation eases to lowest level in two years",
        "Read more",
        "READ MORE: Why Europe's harbours are racing to automate",
    ]
    assert_clean(clean_text(page(middle=furniture)), furniture)


def test_check_also_and_the_unrelated_headlines_after_it_are_removed(clean_text):
    furniture = [
        "Check Also",
        "Wildfire forces evacuation of Greek island resort",
        "Wildfire forces evacuation of Greek island resort",
        "Firefighters battled through the night to contain a blaze on the island of Rhodes that …",
    ]
    assert_clean(clean_text(page(bottom=furniture)), furniture)


def test_leave_a_reply_comment_form_and_comments_are_removed(clean_text):
    furniture = [
        "3 Comments",
        "Great piece, the unions are right to stand firm on this one.",
        "Leave a Reply",
        "Your email address will not be published. Required fields are marked *",
        "Comment *",
        "Name *",
        "Save my name, email, and website in this browser for the next time I comment.",
        "Post Comment",
    ]
    assert_clean(clean_text(page(bottom=furniture)), furniture)


def test_donation_appeals_are_removed(clean_text):
    furniture = [
        (
            "Our journalism is funded by readers like you. If you value our independent reporting, "
            "please consider a donation today – every contribution helps us keep it free for everyone."
        ),
        "We rely on you. Please support our newsroom by subscribing for just $5 a month.",
    ]
    assert_clean(clean_text(page(bottom=furniture)), furniture)


def test_an_appeal_quoted_inside_the_story_is_kept(clean_text):
    # STORY[2] quotes the union ("we", "our", "Support us"): speech, not the site asking for money.
    assert_story_intact(clean_text(page())[0].text)


def test_share_counters_are_removed(clean_text):
    furniture = ["Share this article", "Shares", "2,431", "Facebook Twitter Email", "Tweet"]
    assert_clean(clean_text(page(top=furniture[:3], bottom=furniture[3:])), furniture)


def test_photo_captions_with_credits_are_removed(clean_text):
    furniture = [
        (
            "Containers are stacked at a terminal in Rotterdam, Netherlands, May 14, 2024. "
            "REUTERS/Jan Jansen"
        ),
        (
            "Striking dock workers gather outside the terminal gates. "
            "Photograph: Marta Lopez/AFP via Getty Images"
        ),
        "Cranes stand idle at the Maasvlakte terminal (AP Photo/Pieter Janssen)",
    ]
    assert_clean(clean_text(page(top=furniture[:1], middle=furniture[1:])), furniture)


def test_minutes_to_read_lines_are_removed(clean_text):
    furniture = ["4 Min Read", "Reading time: 3 minutes"]
    assert_clean(clean_text(page(top=furniture[:1], bottom=furniture[1:])), furniture)


def test_posted_days_ago_line_is_removed_and_dates_the_story(clean_text, now):
    articles = clean_text(page(top=["Posted 3 days ago"]))
    assert_clean(articles, ["Posted 3 days ago"])
    assert articles[0].published_at == now - timedelta(days=3)


def test_byline_becomes_authors_not_body(clean_text):
    articles = clean_text(page(top=["By Lotte Jansen and Mark Bakker"]))
    assert_clean(articles, ["Lotte Jansen"])
    assert articles[0].authors == ["Lotte Jansen", "Mark Bakker"]
    assert articles[0].title == TITLE


def test_wire_dateline_is_cut_from_the_lede(clean_text):
    assert_story_intact(clean_text(page(lede_prefix="ROTTERDAM (Reuters) - "))[0].text)


@pytest.mark.parametrize(
    ("lede", "agency"),
    [
        ("MOSCOW (Reuters) - Russia said on Friday it would send more troops.", "Reuters"),
        ("KABUL, Afghanistan - Government troops were dispatched to a western province.", None),
        ("NAJAF, Iraq -- Explosions rattled through the city as troops moved in.", None),
        # news feeds' summaries (AG News): the wire's name alone before a dash
        ("Reuters - Poland said Friday it plans to reduce the number of its troops.", "Reuters"),
        ("AFP - A company of Nigerian infantry flew out of Abuja on Sunday.", "AFP"),
        # a city or a feed's name, then a lone hyphen; a feed's name before the wire's dateline
        ("NEW YORK - Stocks rose for a second straight session on Tuesday.", None),
        ("Bukavu/Nairobi - United Nations peacekeepers fired on troops trying to enter.", None),
        ("London - A 48-hour strike by aircraft refuellers got under way on Friday.", None),
        (
            "Canadian Press - VANCOUVER (CP) - The sister of a man who died spoke on Monday.",
            "Canadian Press",
        ),
        ("SPACE.com - TORONTO, Canada -- A second team of rocketeers set a launch date.", None),
    ],
)
def test_wire_datelines_of_every_form_are_cut(lede, agency):
    rest, dateline = strip_lede_dateline(lede)
    assert dateline is not None and dateline.agency == agency
    assert lede.endswith(rest) and rest[0].isupper() and len(rest) < len(lede)


def test_a_feeds_name_and_the_wires_dateline_go_as_one():
    rest, dateline = strip_lede_dateline(
        "SPACE.com - TORONTO, Canada -- A second team of rocketeers set a date."
    )
    assert rest == "A second team of rocketeers set a date."
    assert dateline is not None and dateline.text == "SPACE.com - TORONTO, Canada --"


@pytest.mark.parametrize(
    "lede",
    [
        "Reuters said on Friday that its profits rose - sharply.",  # the wire as a subject
        "APPLE, the company - famous for phones.",  # too short after the dash to be a story
        "A-B test results - for the team - came in on Monday morning.",
        # a name in capitals too short to be a city; a pair of dashes around an aside
        "US - China trade talks resumed on Monday in Beijing after a pause.",
        "Gazprom - Russia's gas giant - said on Friday it would raise prices.",
        "News - World - Europe - Russia sends troops to Venezuela in a show of support.",
    ],
)
def test_a_lede_that_only_looks_like_a_dateline_is_kept(lede):
    assert strip_lede_dateline(lede) == (lede, None)


def test_credit_lines_are_removed(clean_text):
    furniture = [
        "Reporting by Anna Kool; Editing by Tom Berg",
        "The Associated Press contributed to this report.",
    ]
    assert_clean(clean_text(page(bottom=furniture)), furniture)


def test_headline_of_another_story_inside_the_body_is_removed(clean_text):
    furniture = ["Boeing delays 777X deliveries again"]
    assert_clean(clean_text(page(middle=furniture)), furniture)


def test_subheading_that_shares_the_story_words_is_kept(clean_text):
    subheading = "Union fears automation will cost port jobs"
    text = clean_text(page(middle=[subheading]))[0].text
    assert subheading in text.split("\n\n")


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("ADVERTISEMENT", "ad"),
        ("Scroll to continue with content", "ad"),
        ("To contact the author: jane@example.net", "contact"),
        ("All rights reserved. Example News 2023", "copyright"),
        ("You may also like", "related"),
        ("Continue reading", "read_more"),
        ("Leave a comment", "comment"),
        ("Notify me of follow-up comments by email.", "comment_form"),
        ("12 min read", "read_time"),
        ("Updated 5 hours ago", "posted_ago"),
        ("Published 14 May 2024, 09:30 BST", "date"),
        ("Share on Facebook", "share"),
        ("Tags: shipping, strikes, Netherlands", "tags"),
        ("Sign up for our daily newsletter to get the news in your inbox.", "promo"),
        ("https://example.com/news/port-strike", "url"),
    ],
)
def test_furniture_line_is_recognised_alone(line, kind):
    assert line_kind(line) == kind


@pytest.mark.parametrize("paragraph", STORY)
def test_story_paragraphs_are_not_furniture(paragraph):
    assert line_kind(paragraph) is None


def test_paragraphs_before_the_lede_form_the_header():
    paragraphs = [TITLE, "By Lotte Jansen", *STORY]
    assert classify_paragraphs(paragraphs, stopwords_for("en")).body_start == 2
