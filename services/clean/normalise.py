"""Text normalisation for the clean stage: str in, tidy str (or paragraph list) out; pure, no I/O."""

from __future__ import annotations

import html
import re
import unicodedata

import ftfy

from shared.linear import compile_linear

# ftfy's defaults, except that typographic quotes are the publisher's text and stay curly.
_FTFY = ftfy.TextFixerConfig(uncurl_quotes=False, explain=False, unescape_html=False)

_ENTITY = compile_linear(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# The next four stay in re: each is one character class (or one repeated character), so every
# character is looked at once, and a sub() over many matches is far cheaper there than in RE2's
# binding (~10 µs a match).
# C0/C1 control characters other than tab and newline: SGML wire codes (\x02 \x03 \x16 ...), DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Invisible characters that only break tokens: zero-width space, BOM, soft hyphen, word joiner.
# ZWJ/ZWNJ are kept: they carry meaning in emoji and in Indic and Persian scripts.
_INVISIBLE = re.compile(r"[\u200b\u2060\ufeff\u00ad]")
# Every Unicode space except newline: NBSP, thin space, ideographic space, tab ...
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_RUN = re.compile(r"\n{3,}")
# A line that ends in one of these ends a sentence or clause.
_TERMINAL = frozenset(".!?…:;\"'”’»)]")


def normalise_text(text: str) -> str:
    """Return ``text`` as NFC with mojibake, entities and control codes fixed and whitespace tidied.

    Lines are stripped, runs of spaces collapse to one, and runs of blank lines collapse to one
    blank line, so paragraph boundaries survive.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in text and _ENTITY.search(text):
        # Twice: scraped and SGML text is often escaped twice ("&amp;lt;").
        text = html.unescape(html.unescape(text))
    text = ftfy.fix_text(text, _FTFY)
    text = _CONTROL.sub(" ", text)
    text = _INVISIBLE.sub("", text)
    text = unicodedata.normalize("NFC", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip()


def split_blocks(text: str) -> list[list[str]]:
    """Split normalised text into blocks (separated by blank lines) of non-empty lines."""
    return [block.split("\n") for block in text.split("\n\n") if block.strip()]


def ends_clause(line: str) -> bool:
    """Whether ``line`` ends a sentence or clause: in . ! ? … : ; or a closing quote or bracket.

    A final newline is not looked at (as ``$`` in ``re``).
    """
    return line.removesuffix("\n")[-1:] in _TERMINAL


def _is_hard_wrapped(lines: list[str]) -> bool:
    """Whether a block's lines look wrapped at a fixed width rather than one paragraph per line."""
    if len(lines) < 3:
        return False
    body = lines[:-1]
    lengths = sorted(len(line) for line in body)
    median = lengths[len(lengths) // 2]
    # Wrapped text: lines of similar length near a fixed width that mostly do not end a sentence.
    similar = sum(1 for n in lengths if abs(n - median) <= 15) / len(body)
    open_ended = sum(1 for line in body if not ends_clause(line)) / len(body)
    return 40 <= median <= 100 and similar >= 0.7 and open_ended >= 0.6


def to_paragraphs(text: str) -> list[str]:
    """Return the paragraphs of normalised text.

    One paragraph per line, except in blocks hard-wrapped at a fixed width (wire copy, e-mail),
    whose lines are joined back into one paragraph.
    """
    paragraphs: list[str] = []
    for lines in split_blocks(text):
        if _is_hard_wrapped(lines):
            paragraphs.append(" ".join(lines))
        else:
            paragraphs.extend(lines)
    return paragraphs


def join_paragraphs(paragraphs: list[str]) -> str:
    """Join paragraphs with one blank line, the output format of the clean stage."""
    return "\n\n".join(p for p in paragraphs if p)
