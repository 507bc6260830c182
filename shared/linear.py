"""Linear-time regular expressions for text we do not control: RE2 with Python's classes; pure.

``compile_linear(pattern, flags)`` compiles a pattern written in Python's dialect with RE2, whose
matching time is linear in the text by construction (no backtracking). What differs between the
two dialects is translated so a pattern matches exactly what ``re`` matched:

- ``\\w \\W \\d \\D \\s \\S`` are Unicode in ``re`` but ASCII in RE2: each escape, and each bracket
  class that uses one, becomes an explicit class of code-point ranges computed by ``re`` itself;
- ``$`` (without MULTILINE) also matches before a final newline in ``re``: it becomes ``\\n?\\z``
  (which takes that newline into the match; callers pass lines or paragraphs, which have none);
- ``\\Z`` becomes ``\\z``, ``\\uXXXX`` becomes ``\\x{XXXX}``; IGNORECASE, DOTALL and MULTILINE
  become inline flags.

RE2 has no lookaround and no backreference (it refuses them), and its ``\\b`` is ASCII-only, so
``\\b`` and ``\\B`` are refused here: write the boundary out, e.g. ``(?:^|\\W)word(?:\\W|$)`` when
only whether the pattern occurs matters, or keep the pattern in ``re`` and say why it is linear.
"""

from __future__ import annotations

import re
import sys
from functools import cache, lru_cache
from typing import Any

import re2  # type: ignore[import-untyped]

__all__ = ["LinearPattern", "compile_linear", "is_linear"]

_Regexp: Any = type(re2.compile(""))
_NO_MATCH = (-1, -1)


class LinearPattern(_Regexp):  # type: ignore[misc]
    """An RE2 pattern whose ``search``/``match``/``fullmatch`` skip the binding's slow path.

    The binding spends ~4 µs a call in Python (a generator, UTF-8 offsets for every group) even
    when nothing matches, which is the usual answer of a boilerplate test; clean asks some twenty
    of them of each paragraph. Here a miss, and a match in ASCII text (where byte offsets are
    character offsets), cost one call into RE2; anything else takes the binding's own path.
    """

    __slots__ = ()

    def _first(self, anchor: Any, text: Any, pos: Any, endpos: Any) -> Any:
        if pos is not None or endpos is not None or not isinstance(text, str):
            return next(self._match(anchor, text, pos, endpos), None)
        encoded = text.encode("utf-8")
        spans = self._regexp.Match(anchor, encoded, 0, len(encoded))
        if spans[0] == _NO_MATCH:
            return None
        if len(encoded) == len(text):  # ASCII: offsets need no decoding
            return re2._Match(self, text, 0, len(text), spans)
        return next(self._match(anchor, text, None, None), None)

    def search(self, text: Any, pos: Any = None, endpos: Any = None) -> Any:
        """Like ``re.Pattern.search``."""
        return self._first(re2._Anchor.UNANCHORED, text, pos, endpos)

    def match(self, text: Any, pos: Any = None, endpos: Any = None) -> Any:
        """Like ``re.Pattern.match``."""
        return self._first(re2._Anchor.ANCHOR_START, text, pos, endpos)

    def fullmatch(self, text: Any, pos: Any = None, endpos: Any = None) -> Any:
        """Like ``re.Pattern.fullmatch``."""
        return self._first(re2._Anchor.ANCHOR_BOTH, text, pos, endpos)


_ESCAPED_CLASSES = "wWdDsS"
_FLAGS = ((re.IGNORECASE, "i"), (re.DOTALL, "s"), (re.MULTILINE, "m"))
_IGNORED_FLAGS = re.UNICODE  # the default for str patterns in both dialects


def is_linear(pattern: object) -> bool:
    """Whether ``pattern`` is a compiled RE2 pattern (linear-time matching)."""
    return isinstance(pattern, _Regexp)


def compile_linear(pattern: str, flags: int = 0) -> Any:
    """Compile ``pattern`` (Python ``re`` syntax) with RE2, matching what ``re`` would match.

    Raises:
        ValueError: the pattern uses ``\\b``/``\\B``, a lookaround, a backreference or a flag
            RE2 cannot honour (see the module docstring for what to do instead).
    """
    unknown = flags & ~(_IGNORED_FLAGS | sum(f for f, _ in _FLAGS))
    if unknown:
        raise ValueError(f"flag {re.RegexFlag(unknown)!r} has no RE2 equivalent")
    inline = "".join(letter for flag, letter in _FLAGS if flags & flag)
    translated = _translate(pattern, multiline=bool(flags & re.MULTILINE))
    options = re2.Options()
    options.log_errors = False  # a bad pattern raises re2.error; no stderr noise
    try:
        return LinearPattern(f"(?{inline}){translated}" if inline else translated, options)
    except re2.error as exc:
        raise ValueError(f"RE2 refuses {pattern!r}: {exc}") from exc


def _translate(pattern: str, *, multiline: bool) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1 : i + 2]
            if nxt in ("b", "B"):
                raise ValueError(f"\\{nxt} in {pattern!r}: RE2's word boundary is ASCII-only")
            if nxt.isdigit() and nxt != "0":
                raise ValueError(f"backreference \\{nxt} in {pattern!r}")
            if nxt and nxt in _ESCAPED_CLASSES:
                out.append(_class_ranges("\\" + nxt))
                i += 2
                continue
            if nxt == "Z":
                out.append("\\z")
                i += 2
                continue
            if nxt in ("u", "U"):
                width = 4 if nxt == "u" else 8
                out.append(f"\\x{{{pattern[i + 2 : i + 2 + width]}}}")
                i += 2 + width
                continue
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if ch == "[":
            end = _class_end(pattern, i)
            bracket = pattern[i:end]
            if "\\" in bracket:
                # Escapes inside a class (\w, \s, \u2019, \] ...): let re say which characters it
                # means, so negations such as [^\W\d_] keep their Unicode meaning.
                out.append(_class_ranges(bracket))
            else:
                out.append(bracket)
            i = end
            continue
        if ch == "(" and pattern[i + 1 : i + 2] == "?":
            rest = pattern[i + 2 : i + 4]
            if rest[:1] in ("=", "!") or rest in ("<=", "<!"):
                raise ValueError(f"lookaround in {pattern!r}: RE2 has none")
        if ch == "$" and not multiline:
            out.append("(?:\\n?\\z)")
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _class_end(pattern: str, start: int) -> int:
    """Index just after the bracket class opening at ``start``."""
    i = start + 1
    if pattern[i : i + 1] == "^":
        i += 1
    if pattern[i : i + 1] == "]":
        i += 1  # a leading ] is a literal
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "]":
            return i + 1
        i += 1
    raise ValueError(f"unterminated character class in {pattern!r}")


@lru_cache(maxsize=1)
def _code_points() -> tuple[str, str]:
    # Every code point that UTF-8 can carry, in two runs either side of the surrogates.
    return (
        "".join(map(chr, range(0xD800))),
        "".join(map(chr, range(0xE000, sys.maxunicode + 1))),
    )


@cache
def _class_ranges(py_class: str) -> str:
    """The characters ``re`` matches with ``py_class`` (no flags), as an RE2 class of ranges."""
    single = re.compile(f"(?:{py_class})+")
    ranges = []
    for chunk in _code_points():
        for m in single.finditer(chunk):
            first, last = ord(m.group()[0]), ord(m.group()[-1])
            ranges.append(
                f"\\x{{{first:x}}}" if first == last else f"\\x{{{first:x}}}-\\x{{{last:x}}}"
            )
    if not ranges:
        raise ValueError(f"{py_class!r} matches no character")
    return f"[{''.join(ranges)}]"
