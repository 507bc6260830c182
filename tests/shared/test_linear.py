"""shared.linear: compile_linear matches exactly what ``re`` matches, in linear time (RE2), or refuses."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import linear

_TRANSLATED = [
    r"\w+",
    r"[^\W\d_]+",
    r"\s*[:|>»-]\s*\S",
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    r"^\W*(?:by|for)\s+\d+$",
    r"[^\S\n]+",
    r"[\u200b\u2060]",
    r"(?:^|\W)we(?:\W|$)",
]


@settings(max_examples=300, deadline=None, database=None)
@given(st.sampled_from(_TRANSLATED), st.text(max_size=40), st.booleans())
def test_compile_linear_finds_what_re_finds(pattern, text, ignore_case):
    flags = re.IGNORECASE if ignore_case else 0
    expected = [m.span() for m in re.finditer(pattern, text, flags)]
    assert [m.span() for m in linear.compile_linear(pattern, flags).finditer(text)] == expected
    found = linear.compile_linear(pattern, flags).search(text)
    assert (found.span() if found else None) == (expected[0] if expected else None)


@pytest.mark.parametrize("pattern", [r"\bword", r"a(?=b)", r"(?<!a)b", r"(a)\1"])
def test_compile_linear_refuses_what_re2_cannot_do_exactly(pattern):
    with pytest.raises(ValueError):
        linear.compile_linear(pattern)
