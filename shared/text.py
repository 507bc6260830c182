"""Text guards shared by the stages that hand article text to spaCy (dedup's sentence split, entities, alerts); consumes and produces plain strings."""

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


# --------------------------------------------------------------------------------- headlines
# The entities and alerts stages both read a title with spaCy: the same casing for both, so the
# names one finds are the names the other parses.


def headline_case(title: str, body: str) -> str:
    """A Title Case or ALL CAPS headline in sentence case, so spaCy's tagger, parser and NER read it as a sentence (same length).

    Words the body writes capitalised (names: "Russian", "Caracas") keep their capital; in an
    ALL CAPS headline ("U.S. TROOPS ARRIVE IN SAUDI ARABIA") a word takes the body's spelling of
    it when the body capitalises it ("U.S.", "Saudi", "Arabia") and is lowered otherwise. A
    headline already in sentence case is returned as it is, and so is one whose case change
    would change its length (a few Unicode letters), since offsets into it must hold.
    """
    words = title.split()
    alpha = [w for w in words if w[:1].isalpha()]
    if not alpha or sum(w[:1].isupper() for w in alpha) < 0.6 * len(alpha):
        return title
    names = {w.strip(_QUOTES) for w in body.split() if w[:1].isupper()}
    lowered = {w.strip(_QUOTES).lower() for w in body.split() if w[:1].islower()}
    if sum(w.isupper() for w in alpha) >= 0.6 * len(alpha) and len(alpha) > 1:
        return _same_length(_all_caps_case(title, names, lowered), title)
    out = []
    for n, word in enumerate(title.split(" ")):
        bare = word.strip(_QUOTES)
        keep = (
            n == 0
            or not bare
            or (bare in names and bare.lower() not in lowered)
            or bare.isupper()
            and len(bare) > 1
        )
        out.append(word if keep else word.lower())
    return _same_length(" ".join(out), title)


_QUOTES = "\"'‘’“”.,:;!?()"


def _all_caps_case(title: str, names: set[str], lowered: set[str]) -> str:
    # the body's spelling of each capitalised word, by its lower case: "U.S." stays, "TROOPS" -> "troops"
    spelling = {n.lower(): n for n in names if n.lower() not in lowered}
    out = []
    for n, word in enumerate(title.split(" ")):
        bare = word.strip(_QUOTES)
        known = spelling.get(bare.lower())
        if known is not None and len(known) == len(bare):
            cased = word.replace(bare, known, 1)
        else:
            cased = word.lower()
            if n == 0:
                cased = cased[:1].upper() + cased[1:]
        out.append(cased)
    return " ".join(out)


def _same_length(cased: str, title: str) -> str:
    return cased if len(cased) == len(title) else title
