"""Articles built from corpus text as the stages receive them: segmented as dedup segments them."""

from __future__ import annotations

from collections.abc import Iterable

from services.dedup.features import split_sentences as dedup_spans
from shared.schemas import Sentence


def split_sentences(text: str, seen: Iterable[int] = ()) -> list[Sentence]:
    """``text``'s sentences as dedup would emit them; indices in ``seen`` are marked seen."""
    seen = set(seen)
    return [
        Sentence(index=i, start=start, end=end, text=text[start:end], seen=i in seen)
        for i, (start, end) in enumerate(dedup_spans(text))
    ]
