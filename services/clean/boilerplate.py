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
from collections.abc import Iterable
from dataclasses import dataclass

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

_AD = compile_linear(
    r"^\W*(?:advertisement|advertising|advert|ads?|sponsored(?: (?:content|post|links?|stories))?"
    r"|promoted(?: (?:content|stories|links))?|paid (?:content|post|partner(?: content)?)"
    r"|partner content|(?:story|article|text) continues (?:below|after)(?: (?:this|the))? (?:advertisement|ad)"
    r"|continue reading (?:below|the main story)|scroll(?: down)? to continue(?: with content)?)"
    r"(?:\W+(?:advertisement|scroll to continue(?: with content)?))?\W*$",
    re.IGNORECASE,
)
_CONTACT = compile_linear(
    r"^\W*(?:to contact|contact|write to|e-?mail|reach|send (?:news )?tips to)\s+(?:the\s+)?"
    r"(?:reporters?|editors?|authors?|writers?|journalists?|newsroom|correspondents?|us)(?:\W|$)",
    re.IGNORECASE,
)
_COPYRIGHT = compile_linear(
    r"^\W*(?:©|\(c\)\s*\d{4}|copyright(?:\W|$))|all rights reserved", re.IGNORECASE
)
_RELATED_HEADING = compile_linear(
    r"^\W*(?:related(?: (?:coverage|articles?|stories|news|content|links|topics|reading|posts?|videos?))?"
    r"|more (?:on|from|about|in) [\w .'’&-]{1,40}|more (?:stories|news|articles)"
    r"|see also|check also|also read|read also|also see|you (?:may|might) also (?:like|enjoy|be interested in)"
    r"|recommended(?: for you| stories| reading| articles)?|most (?:read|popular|viewed|shared)"
    r"|popular (?:now|stories|posts|articles)|trending(?: now| stories)?|top stories"
    r"|editor'?s'? picks?|what to read next|further reading|in other news|latest (?:news|stories)"
    r"|don'?t miss|explore more|more like this|read next|up next)\W*$",
    re.IGNORECASE,
)
_READ_MORE = compile_linear(
    r"^\W*(?:read|see|click|continue reading|learn|find out|view)(?: (?:the|this|our))?"
    r"(?: (?:more|full (?:story|article|coverage)|here|on|article|story))?\W*$",
    re.IGNORECASE,
)
# "Read more: <headline>", "RELATED: <headline>", "Also read - <headline>".
_INLINE_TEASER = compile_linear(
    r"^\W*(?:read more|read also|also read|related|see also|more|watch|listen|recommended|"
    r"click here|read the full story)\s*[:|>»-]\s*\S",
    re.IGNORECASE,
)
_COMMENT_HEADING = compile_linear(
    r"^\W*(?:(?:leave|post|add|write|submit)(?: a| your)? (?:reply|comment|response)"
    r"|\d+\s+(?:comments?|replies|responses)|comments?(?: \(\d+\))?|responses|reader comments"
    r"|join the (?:conversation|discussion)|(?:show|view|load|read|see) (?:all )?(?:\d+ )?comments"
    r"|(?:sign|log) ?in to (?:comment|reply)|comments are closed|discussion)\W*$",
    re.IGNORECASE,
)
_COMMENT_FORM = compile_linear(
    r"your email address will not be published|required fields are marked"
    r"|save my name,? e-?mail,? and website|notify me of (?:follow-up comments|new posts)"
    r"|you must be (?:logged|signed) in to post|this site uses akismet"
    r"|^\W*(?:name|e-?mail|website|comment|your name|your comment)\s*\*?\W*$"
    r"|^\W*(?:post|submit|cancel) (?:comment|reply)\W*$|^\W*cancel reply\W*$",
    re.IGNORECASE,
)
_READ_TIME = compile_linear(
    r"^\W*(?:\d+\s*-?\s*min(?:ute)?s?(?:\s+read(?:ing)?)?(?:\s+time)?|(?:estimated\s+)?"
    r"read(?:ing)? time\W*\d+\s*min(?:ute)?s?|\d+\s*min(?:ute)?s?\s+read)(?:\W[\W\w]{0,39})?$",
    re.IGNORECASE,
)
_CREDITS = compile_linear(
    r"^\W*(?:with\s+)?(?:additional\s+)?(?:reporting|writing|editing|compiled|translated|"
    r"produced|assistance|research|graphics?|edited|written|fact-checked)\s+(?:by|from)(?:\W|$)"
    r"|(?:^|\W)contributed(?: reporting)? to this (?:report|story|article)\W*$"
    r"|^\W*our standards(?:\W|$)|(?:^|\W)trust principles\W*$"
    r"|^\W*(?:editorial|ethics) (?:standards|policy)\W*$",
    re.IGNORECASE,
)
_TAGS = compile_linear(r"^\W*(?:tags|topics|filed under|categories|keywords)\s*:", re.IGNORECASE)
_NAV = compile_linear(
    r"^\W*(?:skip to (?:main )?content|skip navigation|menu|home|search|close|back to top|"
    r"print(?: this (?:article|page))?|next article|previous article|top of page)\W*$",
    re.IGNORECASE,
)
# A photo credit closing a caption: "Photograph: Carlos Jasso/Reuters", "REUTERS/Jane Doe",
# "Federico Parra/AFP/Getty Images", "(AP Photo/Jane Doe)", "Photo by Jane Doe".
_NAME_TOKEN = r"[A-Z][^\W\d_]*(?:['’.-][^\W\d_]+)*\.?"  # letters only: "Channel 4" is no credit
_CREDIT_NAMES = rf"(?:{_NAME_TOKEN}\s){{0,3}}{_NAME_TOKEN}"
_CREDIT_TAIL = compile_linear(
    r"(?:(?:^|\W)(?i:photo(?:graph)?|picture|image|illustration|video|credit|foto|footage)s?"
    r"(?i:\s+by|\s+courtesy(?:\s+of)?)?\s*[:/]?\s+[A-Z][^.!?]{1,80}"
    rf"|(?:^|[\s(]){_CREDIT_NAMES}(?:/{_CREDIT_NAMES}){{1,3}}"
    # "\b/" is a slash right after a word character
    r"|(?:(?:^|\W)via|\w/)\s*Getty Images|(?:^|\W)Getty Images|(?:^|\W)Shutterstock"
    r"|(?:^|\W)AP Photo(?:[^.\w][^.]{0,39})?)\)?$"
)
_CAPTION_HEAD = compile_linear(
    r"^\W*(?:image|photo|picture|video)\s+(?:caption|copyright|source)(?:\W|$)", re.IGNORECASE
)

_SHARE_WORDS = frozenset(
    [
        "share",
        "shares",
        "shared",
        "sharing",
        "tweet",
        "tweets",
        "email",
        "e-mail",
        "mail",
        "print",
        "facebook",
        "twitter",
        "x",
        "whatsapp",
        "linkedin",
        "pinterest",
        "reddit",
        "messenger",
        "telegram",
        "flipboard",
        "sms",
        "copy",
        "link",
        "links",
        "save",
        "saved",
        "comment",
        "comments",
        "like",
        "likes",
        "this",
        "article",
        "story",
        "on",
        "via",
        "pin",
        "more",
        "options",
        "views",
        "reactions",
        "the",
        "to",
        "and",
        "or",
        "share",
        "this",
    ]
)
_BULLET = compile_linear(r"^\s*(?:[-–—•*·▪►]|\d{1,2}[.)])\s")
_NUMBER = compile_linear(r"^[\d.,]+[kKmM]?$")

_APPEAL = compile_linear(
    r"(?:^|\W)(?:contribut(?:e|ion|ing)|donat(?:e|ion|ions|ing)|support (?:us|our|independent)"
    r"|supported us|subscri(?:be|ption|ber)s?|become a (?:member|supporter|subscriber|patron)"
    r"|chip in|help us|sign up|patreon|paypal|make a gift)(?:\W|$)",
    re.IGNORECASE,
)
_MEDIA_WORDS = compile_linear(
    r"(?:^|\W)(?:journalism|journalists?|reporting|independent|readers?|media|newsroom|advertis\w*"
    r"|paywall|newsletter|inbox|free to read|our (?:work|mission|site|website|platform))(?:\W|$)",
    re.IGNORECASE,
)
# The site speaking (we) and the reader addressed (you), counted as whole words. The old
# \b(?:we|...|we're)\b patterns matched exactly these words: "we're" always stopped at "we".
_WORD_RUN = re.compile(r"\w+")
_WE_WORDS = frozenset({"we", "our", "us"})
_YOU_WORDS = frozenset({"you", "your"})
_PROMO_START = compile_linear(
    r"^\W*(?:sign up|subscribe|follow us|follow (?:\w+ )?on (?:twitter|facebook|instagram)|"
    r"download (?:our|the) app|get (?:our|the latest)|join (?:our|us)|like us on|click here to)"
    r"(?:\W|$)",
    re.IGNORECASE,
)

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
    we, you = _count_words(outside, _WE_WORDS), _count_words(outside, _YOU_WORDS)
    return bool(_APPEAL.search(outside)) and we + you >= 2 and bool(_MEDIA_WORDS.search(outside))


def _is_caption(text: str) -> bool:
    if _CAPTION_HEAD.match(text):
        return True
    if ends_sentence(text) and not text.endswith(")"):
        return False
    return bool(_CREDIT_TAIL.search(text)) and len(words_of(text)) >= 2


def _is_share_counter(text: str) -> bool:
    tokens = _SHARE_TOKEN.findall(text.lower())
    if not tokens or len(tokens) > 8:
        return False
    has_share = False
    for token in tokens:
        if _NUMBER.match(token):
            continue
        if token.strip(".,") not in _SHARE_WORDS:
            return False
        has_share = True
    return has_share


def line_kind(text: str) -> str | None:
    """Return the boilerplate kind of one paragraph seen alone, or None if it may be story text.

    Kinds: ad, contact, email, copyright, related, read_more, teaser, comment, comment_form,
    donation, promo, share, caption, read_time, posted_ago, date, credits, tags, nav, url.
    """
    n = len(words_of(text))
    if _URL_LINE.match(text):
        return "url"
    if n <= 8 and _AD.match(text):
        return "ad"
    if _CONTACT.match(text):
        return "contact"
    if _EMAIL.search(text) and n <= 40:
        return "email"
    if (_COPYRIGHT.search(text) and n <= 25) or ("©" in text and n <= 12):
        return "copyright"
    if n <= 8 and _RELATED_HEADING.match(text):
        return "related"
    if n <= 6 and _READ_MORE.match(text):
        return "read_more"
    if n <= 25 and _INLINE_TEASER.match(text) and not ends_sentence(text):
        return "teaser"
    if n <= 8 and _COMMENT_HEADING.match(text):
        return "comment"
    if n <= 30 and _COMMENT_FORM.search(text):
        return "comment_form"
    if n <= 12 and _READ_TIME.match(text):
        return "read_time"
    if n <= 25 and is_date_line(text):
        return "posted_ago" if not _FOUR_DIGITS.search(text) else "date"
    if _CREDITS.search(text) and n <= 60:
        return "credits"
    if n <= 10 and _TAGS.match(text):
        return "tags"
    if n <= 6 and _NAV.match(text):
        return "nav"
    if _is_share_counter(text):
        return "share"
    if n <= 35 and _PROMO_START.match(text) and _count_words(text, _WE_WORDS | _YOU_WORDS):
        return "promo"
    if n <= 90 and _donation_score(text):
        return "donation"
    if n <= 80 and _is_caption(text):
        return "caption"
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
    n = len(paragraphs)

    # A headline printed just before "Read more" is the teaser that link belongs to.
    for i in range(1, n):
        if kinds[i] == "read_more" and kinds[i - 1] is None and is_headline_like(paragraphs[i - 1]):
            kinds[i - 1] = "teaser"

    # After a "Related"/"Check also" heading: the headlines and cut-off teasers of that block.
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

    # A bare number under a share label is its count ("Shares" / "1,606").
    for i in range(1, n):
        if kinds[i] is None and kinds[i - 1] == "share" and _NUMBER.match(paragraphs[i].strip()):
            kinds[i] = "share"

    # Everything after a comment heading below the story is readers' text or the form.
    for i in range(max(start, 1), n):
        if kinds[i] == "comment":
            for j in range(i + 1, n):
                kinds[j] = kinds[j] or "comment"
            break

    # Headline-like lines inside the body whose words the story does not share: related links.
    prose_stems: dict[int, list[str]] = {
        i: content_stems(p, stopwords)
        for i, p in enumerate(paragraphs)
        if kinds[i] is None and i >= start and is_prose(p, stopwords)
    }
    vocabulary = Counter(s for stems in prose_stems.values() for s in stems)
    for i in range(start + 1, n):
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

    # A short line closing the story ("Reuter", "Share", "Tags") signs off; it is no sentence.
    for i in range(n - 1, start, -1):
        if kinds[i] is not None:
            continue
        if len(words_of(paragraphs[i])) <= 2 and not ends_sentence(paragraphs[i]):
            kinds[i] = "signoff"
            continue
        break

    # The same paragraph twice (pull quotes, a pasted block) keeps its first copy.
    seen: set[str] = set()
    for i in range(start, n):
        if kinds[i] is None:
            key = " ".join(paragraphs[i].split()).lower()
            if key in seen and len(key) > 20:
                kinds[i] = "repeat"
            seen.add(key)
    return Classified(paragraphs, kinds, start)
