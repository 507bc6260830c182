"""Alerts core: consumes EnrichedArticle, produces Alert (per rule and sentence); no DLQ.

Rules are declarative (``rules.yaml``): named vocabularies of regular expressions, and conditions
over them and over the sentence's entity labels. This module only compiles and evaluates them, so
a new rule is a YAML change, reviewed like data. The stage needs no spaCy model: everything a rule
looks at is the sentence text and the entities the entities stage attached.
"""

from __future__ import annotations

import bisect
import re
import re._constants as sre_constants
import re._parser as sre_parser
import uuid
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from shared.schemas.articles import Alert, EnrichedArticle, Entity, Sentence

RULES_PATH = Path(__file__).with_name("rules.yaml")
# Fixed namespace: an alert id is uuid5(rule, article, sentence), identical on every replay.
ALERT_NAMESPACE = uuid.UUID("5d6f1c9e-3b8a-4f57-9a51-2f0e6c1d7b42")

# A tokeniser: a run of one class, each character looked at once; kept in re, where a match
# costs far less than in RE2's binding.
_WORD = re.compile(r"\w+")
_REPEATS = {
    sre_constants.MAX_REPEAT,
    sre_constants.MIN_REPEAT,
    getattr(sre_constants, "POSSESSIVE_REPEAT", sre_constants.MAX_REPEAT),
}
_UNBOUNDED = sre_constants.MAXREPEAT
# Curly quotes and odd dashes would otherwise need a variant in every pattern.
_TRANSLATE = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}
    | {"\u00a0": " "}
)


class Condition(BaseModel):
    """One test on a sentence; exactly one of its keys is set.

    - ``match: vocab``: some term of the vocabulary occurs;
    - ``not_match: vocab``: no term of it occurs;
    - ``near: [vocab_a, vocab_b]`` with ``within: N``: a term of each occurs, at most N words apart;
    - ``entity_labels: [GPE, ...]``: the sentence holds an entity with one of these labels;
    - ``any: [conditions]`` / ``all: [conditions]``: nesting.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    match: str | None = None
    not_match: str | None = None
    near: tuple[str, str] | None = None
    within: int = Field(default=8, ge=0)
    entity_labels: tuple[str, ...] | None = None
    any_: tuple[Condition, ...] | None = Field(default=None, alias="any")
    all_: tuple[Condition, ...] | None = Field(default=None, alias="all")

    @model_validator(mode="after")
    def _exactly_one_test(self) -> Condition:
        keys = [self.match, self.not_match, self.near, self.entity_labels, self.any_, self.all_]
        if sum(k is not None for k in keys) != 1:
            raise ValueError(
                "a condition needs exactly one of match, not_match, near, entity_labels, any, all"
            )
        return self

    def vocabularies(self) -> set[str]:
        """Return the vocabulary names this condition (and its children) refer to."""
        names = {n for n in (self.match, self.not_match) if n} | set(self.near or ())
        for child in (self.any_ or ()) + (self.all_ or ()):
            names |= child.vocabularies()
        return names


class Rule(BaseModel):
    """A declarative alert rule: all ``conditions`` must hold on one sentence for it to fire."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")  # snake_case: it is the metric label too
    name: str = ""
    description: str = ""
    new_only: bool = True  # fire only on sentences no earlier article held (Sentence.seen False)
    vocabularies: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    conditions: tuple[Condition, ...]

    _compiled: dict[str, re.Pattern[str]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _compile(self) -> Rule:
        used = set().union(*(c.vocabularies() for c in self.conditions))
        missing = used - set(self.vocabularies)
        if missing:
            raise ValueError(f"rule {self.id}: unknown vocabularies {sorted(missing)}")
        for name, terms in self.vocabularies.items():
            # Terms are regular expressions matched case-insensitively as whole words.
            alternation = "|".join(f"(?:{t})" for t in terms)
            # Vocabularies stay in re (RE2 has no lookaround, which whole words and the terms'
            # contexts need), so each term must be one that cannot backtrack without end.
            for term in terms:
                risk = backtracking_risk(term)
                if risk:
                    raise ValueError(f"rule {self.id}: vocabulary {name}: {term!r}: {risk}")
            try:
                self._compiled[name] = re.compile(
                    rf"(?<![\w-])(?:{alternation})(?![\w-])", re.IGNORECASE
                )
            except re.error as exc:
                raise ValueError(f"rule {self.id}: vocabulary {name}: {exc}") from exc
        return self

    def matches(self, text: str, entities: list[Entity]) -> bool:
        """Whether every condition holds on this sentence text with these entities."""
        view = _SentenceView(normalise_text(text), entities, self._compiled)
        return all(view.holds(c) for c in self.conditions)


def backtracking_risk(term: str) -> str | None:
    """Why a vocabulary term could make matching superlinear, or None when it cannot.

    Refused: backreferences, and a repetition (``*``, ``+``, ``{m,n}``) around another unbounded
    one or around an alternation, such as ``(?:a+)*``, ``(?:\\w+ ?){0,9}`` or ``(?:a|aa)+``,
    whose ways of splitting a run grow without bound. The one nested shape allowed is a run of one class ended by a character outside it,
    such as ``(?:[\\w',.-]+ ){0,4}``: each iteration can end in one place only.
    """
    try:
        tree = sre_parser.parse(term, re.IGNORECASE)
    except re.error as exc:
        return str(exc)
    return _risk(list(tree), inside_repeat=False)


def _risk(items: list[Any], *, inside_repeat: bool) -> str | None:
    for op, arg in items:
        if op in (sre_constants.GROUPREF, sre_constants.GROUPREF_EXISTS):
            return "a backreference"
        if op in _REPEATS:
            _, high, body = arg
            if inside_repeat and high == _UNBOUNDED:
                return "an unbounded repetition inside another repetition"
            if high > 1 and not _delimited_run(list(body)):
                risk = _risk(list(body), inside_repeat=True)
                if risk:
                    return risk
        elif op == sre_constants.SUBPATTERN:
            risk = _risk(list(arg[-1]), inside_repeat=inside_repeat)
            if risk:
                return risk
        elif op == sre_constants.BRANCH:
            if inside_repeat:
                return "an alternation inside a repetition"
            for branch in arg[1]:
                risk = _risk(list(branch), inside_repeat=inside_repeat)
                if risk:
                    return risk
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            risk = _risk(list(arg[1]), inside_repeat=inside_repeat)
            if risk:
                return risk
    return None


def _delimited_run(body: list[Any]) -> bool:
    """Whether ``body`` is ``run-of-one-class, one literal outside the class``: ``[\\w.]+ ``."""
    if len(body) == 1 and body[0][0] == sre_constants.SUBPATTERN:
        body = list(body[0][1][-1])
    if len(body) != 2 or body[0][0] not in _REPEATS or body[1][0] != sre_constants.LITERAL:
        return False
    inner = list(body[0][1][2])
    if len(inner) != 1 or inner[0][0] not in (sre_constants.IN, sre_constants.LITERAL):
        return False
    char = chr(body[1][1])
    sample = re.compile(_class_pattern(inner[0]))
    return sample is not None and not sample.fullmatch(char)


def _class_pattern(item: Any) -> str:
    # The pattern text of one parsed class or literal, rebuilt for a one-character test.
    op, arg = item
    if op == sre_constants.LITERAL:
        return re.escape(chr(arg))
    parts = []
    for kind, value in arg:
        if kind == sre_constants.LITERAL:
            parts.append(re.escape(chr(value)))
        elif kind == sre_constants.RANGE:
            parts.append(f"{re.escape(chr(value[0]))}-{re.escape(chr(value[1]))}")
        elif kind == sre_constants.CATEGORY:
            parts.append(_CATEGORIES.get(str(value), "\\s\\S"))  # unknown: all characters
        elif kind == sre_constants.NEGATE:
            parts.insert(0, "^")
    return "[" + "".join(parts) + "]"


_CATEGORIES = {
    "CATEGORY_WORD": "\\w",
    "CATEGORY_NOT_WORD": "\\W",
    "CATEGORY_DIGIT": "\\d",
    "CATEGORY_NOT_DIGIT": "\\D",
    "CATEGORY_SPACE": "\\s",
    "CATEGORY_NOT_SPACE": "\\S",
}


def load_rules(path: Path | None = None) -> list[Rule]:
    """Read and validate the rules file (default ``services/alerts/rules.yaml``).

    A malformed file raises (``ValueError`` / pydantic ``ValidationError``): rules are loaded once
    at startup, and a worker with broken rules must not start.
    """
    data = yaml.safe_load((path or RULES_PATH).read_text(encoding="utf-8")) or {}
    rules = [Rule.model_validate(r) for r in data.get("rules", [])]
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise ValueError(f"duplicate rule ids in {path or RULES_PATH}: {ids}")
    return rules


def evaluate(article: EnrichedArticle, rules: list[Rule], *, fired_at: datetime) -> list[Alert]:
    """Return one Alert per (rule, sentence) that fires, in sentence order.

    A rule with ``new_only`` skips sentences marked ``seen`` upstream: a sentence repeated from
    an earlier article is not a new mention, and it already alerted there.
    """
    by_sentence: dict[int, list[Entity]] = defaultdict(list)
    for entity in article.entities:
        by_sentence[entity.sentence].append(entity)
    alerts: list[Alert] = []
    for sentence in article.sentences:
        entities = by_sentence.get(sentence.index, [])
        for rule in rules:
            if rule.new_only and sentence.seen:
                continue
            if rule.matches(sentence.text, entities):
                alerts.append(_make_alert(article, sentence, rule, entities, fired_at))
    return alerts


def alert_id(rule_id: str, article_id: str, sentence_index: int) -> str:
    """Return the stable id of an alert: the same rule, article and sentence give the same id."""
    return str(uuid.uuid5(ALERT_NAMESPACE, f"{rule_id}\x1f{article_id}\x1f{sentence_index}"))


def normalise_text(text: str) -> str:
    """Straighten quotes and dashes and collapse whitespace, as the rule patterns expect."""
    return " ".join(text.translate(_TRANSLATE).split())


# --- helpers ---------------------------------------------------------------------------------


def _make_alert(
    article: EnrichedArticle,
    sentence: Sentence,
    rule: Rule,
    entities: list[Entity],
    fired_at: datetime,
) -> Alert:
    return Alert(
        alert_id=alert_id(rule.id, article.article_id, sentence.index),
        rule_id=rule.id,
        rule_name=rule.name,
        article_id=article.article_id,
        sentence_index=sentence.index,
        evidence=sentence.text,
        entities=entities,
        title=article.title,
        url=article.url,
        source=article.source,
        published_at=article.published_at,
        fired_at=fired_at,
    )


class _SentenceView:
    """One sentence being tested: caches where each vocabulary matched, in word positions."""

    def __init__(
        self, text: str, entities: list[Entity], compiled: dict[str, re.Pattern[str]]
    ) -> None:
        self.text = text
        self.labels = {e.label for e in entities}
        self.compiled = compiled
        self._word_starts = [m.start() for m in _WORD.finditer(text)]
        self._hits: dict[str, list[tuple[int, int]]] = {}

    def hits(self, vocab: str) -> list[tuple[int, int]]:
        """(first word, last word) of each match of the vocabulary, in order."""
        if vocab not in self._hits:
            spans = []
            for m in self.compiled[vocab].finditer(self.text):
                first = bisect.bisect_right(self._word_starts, m.start()) - 1
                last = bisect.bisect_left(self._word_starts, m.end()) - 1
                spans.append((max(first, 0), max(last, first, 0)))
            self._hits[vocab] = spans
        return self._hits[vocab]

    def holds(self, cond: Condition) -> bool:
        if cond.match is not None:
            return bool(self.hits(cond.match))
        if cond.not_match is not None:
            return not self.hits(cond.not_match)
        if cond.near is not None:
            return self._near(*cond.near, within=cond.within)
        if cond.entity_labels is not None:
            return bool(self.labels.intersection(cond.entity_labels))
        if cond.any_ is not None:
            return any(self.holds(c) for c in cond.any_)
        assert cond.all_ is not None
        return all(self.holds(c) for c in cond.all_)

    def _near(self, a: str, b: str, *, within: int) -> bool:
        # Words strictly between the two matches, whichever comes first. The hits of one
        # vocabulary are in order and do not overlap, so for each hit of ``a`` only two hits of
        # ``b`` can be nearest: the first one after it and the last one starting before its end
        # (all pairs made "troops ... sent ..." sentences quadratic).
        b_hits = self.hits(b)
        b_firsts = [first for first, _ in b_hits]
        for a_first, a_last in self.hits(a):
            pos = bisect.bisect_right(b_firsts, a_last)
            if pos < len(b_hits) and b_hits[pos][0] - a_last - 1 <= within:
                return True
            if pos > 0 and a_first - b_hits[pos - 1][1] - 1 <= within:
                return True
        return False


def rule_summary(rules: list[Rule]) -> list[dict[str, Any]]:
    """Summarise each rule (id, name, new_only) for the service's startup log."""
    return [{"id": r.id, "name": r.name, "new_only": r.new_only} for r in rules]
