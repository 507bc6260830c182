"""Nothing stalls dedup's text functions: normalise_tokens and split_sentences scale linearly on
adversarial text, and their patterns are the linear ones named here."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from services.dedup import core, features, index, stage
from tests.factories import LINEAR_RATIO, assert_linear, best_of_3, repeat_to

REPO = Path(__file__).resolve().parents[3]

# Time at 4N over time at N: linear work gives ~4, quadratic 16. Generous for a shared machine.
# Patterns kept in re and why they are linear (RE2's binding would re-encode the whole text on
# every finditer(text, start, end) that the block split makes).
ALLOWED_RE = {
    "_WORD_RE": "a run of \\w",
    "_BLANK_LINE_RE": "newline, a run of one class, newline",
    "_LINE_RE": "a run of [^\\n]",
}
UNITS = ["a", "a ", "<", "(", "'", '"', ".", "-", "@", "1", "a@a.", "http://", "a\n", "A.\n", "\n "]


def test_text_patterns_are_the_allowlisted_linear_ones():
    # All in features.py: the other modules of the service hold no pattern at all.
    found = {
        f"{module.__name__}.{k}"
        for module in (core, features, index, stage)
        for k, v in vars(module).items()
        if isinstance(v, re.Pattern)
    }
    assert found == {f"services.dedup.features.{name}" for name in ALLOWED_RE}


# Run in a process of its own: late in a full test run, this process's spaCy state (tokenizer
# caches, the heap of every model other tests loaded) made the small size a cache hit and the large
# one not, 60x apart, in two CI rehearsals, while the same test alone scaled 2.6x for 4x. The
# algorithm's scaling is what is tested, so it is timed where nothing else ran before it.
_TIMING = """
import itertools, json, sys
from services.dedup import features
from tests.factories import repeat_to, _timed

def unseen(unit, n):
    counter = itertools.count()
    def split():
        # each call a text the tokenizer has not cached, as each new article is
        features.split_sentences(repeat_to(unit, n - 8) + f"{next(counter):08d}")
    return split

out = {}
for unit in json.loads(sys.argv[1]):
    small, large = unseen(unit, 20_000), unseen(unit, 80_000)
    best = [float("inf"), float("inf")]
    for _ in range(5):
        best[0] = min(best[0], _timed(small))
        best[1] = min(best[1], _timed(large))
    out[unit] = best
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def split_timings() -> dict[str, list[float]]:
    done = subprocess.run(
        [sys.executable, "-c", _TIMING, json.dumps(UNITS)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize("unit", UNITS)
def test_split_sentences_scales_linearly(unit, split_timings):
    small, large = split_timings[unit]
    ratio = large / max(small, 1e-3)  # as tests.factories.assert_linear
    assert ratio < LINEAR_RATIO, (
        f"{unit!r}: {small:.4f} s at n=20000, {large:.4f} s at 4n ({ratio:.1f}x)"
    )


@pytest.mark.parametrize("unit", UNITS)
def test_normalise_tokens_scales_linearly(unit):
    assert_linear(
        lambda n: lambda: features.normalise_tokens(repeat_to(unit, n)), 100_000, repr(unit)
    )


def test_a_long_run_of_punctuation_is_split_in_well_under_a_second():
    # spaCy alone took 130 s on "<" * 20,000.
    assert best_of_3(lambda: features.split_sentences("<" * 20_000)) < 1.0


@pytest.mark.parametrize(
    "text",
    [
        "w" * 2_000_000,  # one word of 2 MB: over spaCy's max_length
        repeat_to("troops moved ", 1_500_000),  # one line of 1.5 MB of words
        "Troops moved. " * 15_000 + "\n" + "(" * 200_000,  # a 200k-character line of "("
    ],
    ids=["one-word", "one-long-line", "bracket-line"],
)
def test_huge_blocks_are_split_and_spans_point_into_the_text(text):
    spans = features.split_sentences(text)
    assert spans
    assert all(0 <= s < e <= len(text) for s, e in spans)
    assert all(text[s:e] == text[s:e].strip() for s, e in spans)
    assert spans == sorted(spans)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_ordinary_text_is_split_as_before():
    text = "Troops arrived in Caracas. The U.S. said it was a provocation!\nmore here.\n\nNew one."
    assert [text[s:e] for s, e in features.split_sentences(text)] == [
        "Troops arrived in Caracas.",
        "The U.S. said it was a provocation!",
        "more here.",
        "New one.",
    ]
