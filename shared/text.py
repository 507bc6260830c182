"""Text guards shared by the stages that hand article text to spaCy (dedup's sentence split, entities); consumes and produces plain strings."""

from __future__ import annotations

import re

# spaCy's tokenizer takes time cubic in the length of one whitespace-free run of punctuation
# ("<" * 5,000: 6 s; * 20,000: 130 s): longer runs reach it as letters.
MAX_RUN = 200
# A run of one class cannot backtrack; `re` because RE2's binding costs ~10 µs a match and runs
# here number in the thousands per text.
_RUN = re.compile(r"\S+")


def mask_long_runs(text: str) -> str:
    """``text`` with every whitespace-free run over MAX_RUN characters turned into "x"s.

    Same length, so spaCy's offsets still point into the original text; such runs (rules, ASCII
    art, junk) hold no sentence boundary or entity anyone would want.
    """
    if len(text) <= MAX_RUN:
        return text
    pieces: list[str] = []
    pos = 0
    for run in _RUN.finditer(text):
        if run.end() - run.start() > MAX_RUN:
            pieces += [text[pos : run.start()], "x" * (run.end() - run.start())]
            pos = run.end()
    return "".join([*pieces, text[pos:]]) if pieces else text
