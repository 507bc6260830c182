"""Cut an article's text into the pieces spaCy reads, within the stage's limits."""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from shared.schemas.articles import Sentence

# Kept in re: a run of one class (each character looked at once), and thousands of matches per
# text, which RE2's binding would make ~30x slower.
_RUN = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunks:
    """The pieces of an article's text that go through spaCy, and where extraction stopped.

    ``spans`` are (start, end) character offsets into the text, in order and adjacent;
    ``truncated_at`` is the offset past which no entity was looked for (the end of the last
    span), or None when the whole text was read.
    """

    spans: tuple[tuple[int, int], ...]
    truncated_at: int | None


def plan_chunks(
    text: str,
    sentences: Sequence[Sentence],
    *,
    max_chunk_chars: int | None = None,
    max_chars: int | None = None,
    max_words: int | None = None,
) -> Chunks:
    """Cut ``text`` into pieces of at most ``max_chunk_chars`` characters, read up to ``max_chars``
    characters and ``max_words`` words (spaCy's time follows its tokens, and a text of one-letter
    words has a token every two characters).

    A piece ends at the last sentence end (from ``sentences``) that fits, else at the last
    whitespace, else at the limit itself; the cap ``max_chars`` is cut the same way. None means
    no limit. spaCy refuses texts over ``nlp.max_length`` (1,000,000 by default) and its memory
    grows with the text it is given, so the entities stage always passes both limits.
    """
    if max_chunk_chars is not None and max_chunk_chars < 1:
        raise ValueError("max_chunk_chars must be positive")
    stop = len(text) if max_chars is None else min(len(text), max(max_chars, 0))
    if max_words is not None:
        past = next(itertools.islice(_RUN.finditer(text, 0, stop), max(max_words, 0), None), None)
        if past is not None:  # the word after the last one read
            stop = past.start()
    ends = sorted({s.end for s in sentences if 0 < s.end <= stop})
    truncated = stop < len(text)
    if truncated:
        stop = _cut(text, 0, stop, ends)
    size = max_chunk_chars or max(stop, 1)
    spans: list[tuple[int, int]] = []
    start = 0
    while start < stop:
        end = stop if stop - start <= size else _cut(text, start, start + size, ends)
        spans.append((start, end))
        start = end
    return Chunks(tuple(spans), stop if truncated else None)


def _cut(text: str, start: int, limit: int, ends: list[int]) -> int:
    """Where a piece that starts at ``start`` ends, at most at ``limit``: see plan_chunks."""
    pos = bisect.bisect_right(ends, limit) - 1
    if pos >= 0 and ends[pos] > start:
        return ends[pos]
    space = max(text.rfind(c, start + 1, limit) for c in " \n\t")
    return space if space > start else limit
