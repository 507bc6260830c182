"""shared.text: long whitespace-free runs reach spaCy as letters, offsets unchanged."""

from shared.text import MAX_RUN, mask_long_runs


def test_runs_over_the_limit_become_letters_of_the_same_length():
    text = "before " + "<" * (MAX_RUN + 1) + " after " + "-" * MAX_RUN
    masked = mask_long_runs(text)
    assert len(masked) == len(text)
    assert masked == "before " + "x" * (MAX_RUN + 1) + " after " + "-" * MAX_RUN


def test_text_without_long_runs_is_returned_as_it_is():
    text = "Russian troops arrived in Caracas. " * 20
    assert mask_long_runs(text) is text
