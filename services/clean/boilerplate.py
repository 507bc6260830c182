"""Boilerplate in scraped plain text: paragraphs in, a kind per paragraph (None: story) out; pure.

Two layers, in the spirit of jusText and boilerpipe:

1. ``line_kind`` looks at one paragraph alone. Each kind is a *family* of page furniture that
   every news site prints in its own words (ad slots, contact blocks, share counters, photo
   credits, comment forms ...). Rules combine a short vocabulary for the family with features
   that tell furniture from prose: length in words, terminal punctuation, whether the line is
   mostly that vocabulary, reader-addressing pronouns outside quotes.
2. ``classify_paragraphs`` adds context: where the story body starts (first prose paragraph),
   blocks that follow a "Related"/"Check also" heading, a headline that precedes "Read more",
   everything after a comment heading, and headline-like lines inside the body whose words the
   story does not share (a related-story link that landed mid-article) - lexical cohesion.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from services.clean import furniture
from services.clean.metadata.dates import is_date_line
from shared.linear import compile_linear

# Every pattern here runs on scraped text of any length, so each is compiled with RE2 (linear
# time) except the tokenisers (_WORD, _SHARE_TOKEN, _WORD_RUN), which stay in ``re``: a run of
# one character class (for _WORD: a letter, then a class that must end on a word character), so
# no character is looked at more than twice; RE2's binding costs ~10 µs a match, too much for a
# tokeniser. ``\b`` (ASCII-only in RE2) is written out as ``(?:^|\W)`` / ``(?:\W|$)``: those
# patterns are only asked *whether* they occur, never where.
_WORD = re.compile(r"[^\W\d_](?:[\w'’.-]*\w)?", re.UNICODE)
_SHARE_TOKEN = re.compile(r"[\w,.'’-]+")
_EMAIL = compile_linear(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\[email\s*protected\]", re.IGNORECASE)
_URL_LINE = compile_linear(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
# A sentence ends in . ! ? (optionally inside closing quotes/brackets), an ellipsis does not:
# plain string tests (the old pattern needed a lookbehind, which RE2 lacks).
_CLOSERS = "\"'”’»)]"
_FOUR_DIGITS = compile_linear(r"\d{4}")
_QUOTED = compile_linear(r"[“\"«„][^“”\"«»„]*[”\"»]")

_BULLET = compile_linear(r"^\s*(?:[-–—•*·▪►]|\d{1,2}[.)])\s")
_NUMBER = compile_linear(r"^[\d.,]+[kKmM]?$")

# The site speaking (we) and the reader addressed (you), counted as whole words. The old
# \b(?:we|...|we're)\b patterns matched exactly these words: "we're" always stopped at "we".
_WORD_RUN = re.compile(r"\w+")

BOILERPLATE_KINDS = (
    "ad",
    "contact",
    "email",
    "copyright",
    "related",
    "read_more",
    "teaser",
    "comment",
    "comment_form",
    "donation",
    "promo",
    "share",
    "caption",
    "read_time",
    "posted_ago",
    "date",
    "credits",
    "tags",
    "nav",
    "url",
    "signoff",
    "repeat",
)


def words_of(text: str) -> list[str]:
    """Return the word tokens of ``text`` (letters first; numbers alone are not words)."""
    return _WORD.findall(text)


def _without_closers(text: str) -> str:
    # A final newline, then closing quotes and brackets, as ``[closers]*$`` allowed.
    return text.removesuffix("\n").rstrip(_CLOSERS)


def is_email(text: str) -> bool:
    """Whether ``text`` is only an e-mail address (or the "[email protected]" left by scrapers)."""
    return bool(_EMAIL.fullmatch(text))


def ends_with_ellipsis(text: str) -> bool:
    """Whether ``text`` ends in an ellipsis (… or ...), optionally inside closing quotes."""
    return _without_closers(text).endswith(("…", "..."))


def ends_sentence(text: str) -> bool:
    """Whether ``text`` ends like a finished sentence (., !, ?; not an ellipsis)."""
    core = _without_closers(text)
    return core[-1:] in (".", "!", "?") and not core[:-1].endswith("..")


def is_headline_like(text: str) -> bool:
    """A short line without sentence-final punctuation that starts with a capital: a headline.

    Lines that are mostly digits (tables, scores, prices) are not headlines.
    """
    words = words_of(text)
    if not 1 <= len(words) <= 22 or ends_sentence(text) or ends_with_ellipsis(text):
        return False
    digits = sum(ch.isdigit() for ch in text)
    first = next((ch for ch in text if ch.isalnum()), "")
    return first.isupper() and digits <= len(text) * 0.2 and not text.endswith((":", ","))


def is_prose(text: str, stopwords: frozenset[str]) -> bool:
    """A paragraph of running text: a finished sentence of 8+ words, or 20+ words of prose.

    With a stop-word list, prose also needs jusText's cue of a fair share of function words.
    """
    words = words_of(text)
    n = len(words)
    if n < 8 or ends_with_ellipsis(text):
        return False
    if not ends_sentence(text) and n < 20:
        return False
    if stopwords:
        share = sum(1 for w in words if w.lower() in stopwords) / n
        return share >= 0.15
    return True


def _count_words(text: str, words: frozenset[str]) -> int:
    """How many whole words (runs of \\w) of ``text`` are in ``words``, ignoring case."""
    return sum(1 for w in _WORD_RUN.findall(text) if w.casefold() in words)


def _donation_score(text: str) -> bool:
    """Reader-addressing appeal: the site speaks (we/our) to the reader (you) about its work."""
    outside = _QUOTED.sub(" ", text)
    we, you = _count_words(outside, furniture.WE_WORDS), _count_words(outside, furniture.YOU_WORDS)
    return (
        bool(furniture.APPEAL.search(outside))
        and we + you >= 2
        and bool(furniture.MEDIA_WORDS.search(outside))
    )


def _is_caption(text: str) -> bool:
    if furniture.CAPTION_HEAD.match(text):
        return True
    if ends_sentence(text) and not text.endswith(")"):
        return False
    return bool(furniture.CREDIT_TAIL.search(text)) and len(words_of(text)) >= 2


def _is_share_counter(text: str) -> bool:
    tokens = _SHARE_TOKEN.findall(text.lower())
    if not tokens or len(tokens) > 8:
        return False
    has_share = False
    for token in tokens:
        if _NUMBER.match(token):
            continue
        if token.strip(".,") not in furniture.SHARE_WORDS:
            return False
        has_share = True
    return has_share


def _is_promo(text: str) -> bool:
    return bool(furniture.PROMO_START.match(text)) and bool(
        _count_words(text, furniture.WE_WORDS | furniture.YOU_WORDS)
    )


def _is_inline_teaser(text: str) -> bool:
    return bool(furniture.INLINE_TEASER.match(text)) and not ends_sentence(text)


def _is_posted_ago(text: str) -> bool:
    # A date line without a year ("3 hours ago", "Posted Tuesday") says when relative to now.
    return is_date_line(text) and not _FOUR_DIGITS.search(text)


class _LineRule(NamedTuple):
    """One context-free rule: a paragraph of at most ``max_words`` words passing ``test``."""

    kind: str
    max_words: int | None  # None: any length
    test: Callable[[str], object]  # truthy: the paragraph is of this kind


# Asked in this order; the first rule that holds gives the kind.
_LINE_RULES = (
    _LineRule("url", None, _URL_LINE.match),
    _LineRule("ad", 8, furniture.AD.match),
    _LineRule("contact", None, furniture.CONTACT.match),
    _LineRule("email", 40, _EMAIL.search),
    _LineRule("copyright", 25, furniture.COPYRIGHT.search),
    _LineRule("copyright", 12, lambda text: "©" in text),
    _LineRule("related", 8, furniture.RELATED_HEADING.match),
    _LineRule("read_more", 6, furniture.READ_MORE.match),
    _LineRule("teaser", 25, _is_inline_teaser),
    _LineRule("comment", 8, furniture.COMMENT_HEADING.match),
    _LineRule("comment_form", 30, furniture.COMMENT_FORM.search),
    _LineRule("read_time", 12, furniture.READ_TIME.match),
    _LineRule("posted_ago", 25, _is_posted_ago),
    _LineRule("date", 25, is_date_line),
    _LineRule("credits", 60, furniture.CREDITS.search),
    _LineRule("tags", 10, furniture.TAGS.match),
    _LineRule("nav", 6, furniture.NAV.match),
    _LineRule("share", None, _is_share_counter),
    _LineRule("promo", 35, _is_promo),
    _LineRule("donation", 90, _donation_score),
    _LineRule("caption", 80, _is_caption),
)


def line_kind(text: str) -> str | None:
    """Return the boilerplate kind of one paragraph seen alone, or None if it may be story text.

    Kinds: ad, contact, email, copyright, related, read_more, teaser, comment, comment_form,
    donation, promo, share, caption, read_time, posted_ago, date, credits, tags, nav, url.
    """
    n = len(words_of(text))
    for rule in _LINE_RULES:
        if (rule.max_words is None or n <= rule.max_words) and rule.test(text):
            return rule.kind
    return None


# --- context ---------------------------------------------------------------------------------


def _stem(word: str) -> str:
    # Five-letter prefixes: a crude, language-blind stemmer ("supplies" ~ "supply").
    return word.lower()[:5]


def content_stems(text: str, stopwords: frozenset[str]) -> list[str]:
    """Stems of the content words of ``text`` (no stop words, 3+ letters)."""
    return [_stem(w) for w in words_of(text) if len(w) >= 3 and w.lower() not in stopwords]


def cohesion(text: str, vocabulary: Iterable[str], stopwords: frozenset[str]) -> float:
    """Share of the content words of ``text`` that the rest of the story also uses."""
    stems = content_stems(text, stopwords)
    if not stems:
        return 0.0
    vocab = vocabulary if isinstance(vocabulary, set | dict) else set(vocabulary)
    return sum(1 for s in stems if s in vocab) / len(stems)


@dataclass
class Classified:
    """The paragraphs of one story with a boilerplate kind each (None: keep) and the body start."""

    paragraphs: list[str]
    kinds: list[str | None]
    body_start: int

    def kept(self) -> list[str]:
        """The paragraphs classified as story text."""
        return [p for p, k in zip(self.paragraphs, self.kinds, strict=True) if k is None]


def find_body_start(
    paragraphs: list[str], kinds: list[str | None], stopwords: frozenset[str]
) -> int:
    """Index of the first prose paragraph that is not boilerplate (the lede); len() if none."""
    for i, (text, kind) in enumerate(zip(paragraphs, kinds, strict=True)):
        if kind is None and is_prose(text, stopwords):
            return i
    return len(paragraphs)


def classify_paragraphs(paragraphs: list[str], stopwords: frozenset[str]) -> Classified:
    """Give every paragraph of one story a boilerplate kind, or None for story text.

    Paragraphs before the lede (the header zone) are left to the header parser unless a
    context-free rule already marks them.
    """
    kinds: list[str | None] = [line_kind(p) for p in paragraphs]
    start = find_body_start(paragraphs, kinds, stopwords)
    # Each pass reads the kinds the passes before it gave.
    _mark_read_more_teasers(paragraphs, kinds)
    _mark_related_blocks(paragraphs, kinds)
    _mark_share_counts(paragraphs, kinds)
    _mark_comment_section(kinds, start)
    _mark_stray_headlines(paragraphs, kinds, start, stopwords)
    _mark_signoff(paragraphs, kinds, start)
    _mark_repeats(paragraphs, kinds, start)
    return Classified(paragraphs, kinds, start)


def _mark_read_more_teasers(paragraphs: list[str], kinds: list[str | None]) -> None:
    """A headline printed just before "Read more" is the teaser that link belongs to."""
    for i in range(1, len(paragraphs)):
        if kinds[i] == "read_more" and kinds[i - 1] is None and is_headline_like(paragraphs[i - 1]):
            kinds[i - 1] = "teaser"


def _mark_related_blocks(paragraphs: list[str], kinds: list[str | None]) -> None:
    """After a "Related"/"Check also" heading: the headlines and cut-off teasers of that block."""
    n = len(paragraphs)
    for i in range(n):
        if kinds[i] != "related":
            continue
        j = i + 1
        while j < n and (
            kinds[j] is not None
            or is_headline_like(paragraphs[j])
            or ends_with_ellipsis(paragraphs[j])
        ):
            if kinds[j] is None:
                kinds[j] = "teaser"
            if kinds[j] == "comment":
                break
            j += 1


def _mark_share_counts(paragraphs: list[str], kinds: list[str | None]) -> None:
    """A bare number under a share label is its count ("Shares" / "1,606")."""
    for i in range(1, len(paragraphs)):
        if kinds[i] is None and kinds[i - 1] == "share" and _NUMBER.match(paragraphs[i].strip()):
            kinds[i] = "share"


def _mark_comment_section(kinds: list[str | None], start: int) -> None:
    """Everything after a comment heading below the story is readers' text or the form."""
    n = len(kinds)
    for i in range(max(start, 1), n):
        if kinds[i] == "comment":
            for j in range(i + 1, n):
                kinds[j] = kinds[j] or "comment"
            break


def _mark_stray_headlines(
    paragraphs: list[str], kinds: list[str | None], start: int, stopwords: frozenset[str]
) -> None:
    """Headline-like lines inside the body whose words the story does not share: related links."""
    prose_stems: dict[int, list[str]] = {
        i: content_stems(p, stopwords)
        for i, p in enumerate(paragraphs)
        if kinds[i] is None and i >= start and is_prose(p, stopwords)
    }
    vocabulary = Counter(s for stems in prose_stems.values() for s in stems)
    for i in range(start + 1, len(paragraphs)):
        text = paragraphs[i]
        # Teaser headlines are short; longer unpunctuated lines are more often story text.
        if (
            kinds[i] is not None
            or not is_headline_like(text)
            or len(words_of(text)) > 14
            or _BULLET.match(text)  # list items are story text however few words they share
        ):
            continue
        # The story's vocabulary without this line's own words.
        own = Counter(prose_stems.get(i, []))
        others = (
            {s for s, count in vocabulary.items() if count > own.get(s, 0)} if own else vocabulary
        )
        if cohesion(paragraphs[i], others, stopwords) < 0.5:
            kinds[i] = "teaser"


def _mark_signoff(paragraphs: list[str], kinds: list[str | None], start: int) -> None:
    """A short line closing the story ("Reuter", "Share", "Tags") signs off; it is no sentence."""
    for i in range(len(paragraphs) - 1, start, -1):
        if kinds[i] is not None:
            continue
        if len(words_of(paragraphs[i])) <= 2 and not ends_sentence(paragraphs[i]):
            kinds[i] = "signoff"
            continue
        break


def _mark_repeats(paragraphs: list[str], kinds: list[str | None], start: int) -> None:
    """The same paragraph twice (pull quotes, a pasted block) keeps its first copy."""
    seen: set[str] = set()
    for i in range(start, len(paragraphs)):
        if kinds[i] is None:
            key = " ".join(paragraphs[i].split()).lower()
            if key in seen and len(key) > 20:
                kinds[i] = "repeat"
            seen.add(key)
