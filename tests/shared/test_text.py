"""shared.text: long whitespace-free runs reach spaCy as letters, headlines as sentences; offsets unchanged."""

import pytest

from shared.text import MAX_RUN, headline_case, mask_long_runs


def test_runs_over_the_limit_become_letters_of_the_same_length():
    text = "before " + "<" * (MAX_RUN + 1) + " after " + "-" * MAX_RUN
    masked = mask_long_runs(text)
    assert len(masked) == len(text)
    assert masked == "before " + "x" * (MAX_RUN + 1) + " after " + "-" * MAX_RUN


def test_text_without_long_runs_is_returned_as_it_is():
    text = "Russian troops arrived in Caracas. " * 20
    assert mask_long_runs(text) is text


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        # Title Case: the body's names keep their capital, the rest is lowered
        (
            "Poland to Reduce Force In Iraq",
            "Poland will reduce its forces in Iraq.",
            "Poland to reduce force in Iraq",
        ),
        (
            "Nigerian Protection Force Leaves for Darfur",
            "Nigerian soldiers left for Darfur.",
            "Nigerian protection force leaves for Darfur",
        ),
        # ALL CAPS: the body's spelling of its capitalised words
        (
            "U.S. SENDS MORE MARINES TO GULF",
            "The U.S. ships were already in the Gulf.",
            "U.S. sends more marines to Gulf",
        ),
        # already a sentence: as it is
        ("Russia sends troops to Venezuela", "", "Russia sends troops to Venezuela"),
        # a case change that would change the length ("İ" lowers to two characters): as it is
        ("Troops Arrive In İzmir", "", "Troops Arrive In İzmir"),
    ],
)
def test_headline_case_reads_a_headline_as_a_sentence_of_the_same_length(title, body, expected):
    cased = headline_case(title, body)
    assert cased == expected and len(cased) == len(title)
