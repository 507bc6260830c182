"""Alerts core: consumes EnrichedArticle, produces Alert (per rule and sentence, the title included, with a frame); no DLQ.

Rules are declarative (``rules.yaml``): spaCy ``Matcher`` patterns over tokens (lemmas, part of
speech, entity labels, country codes), ``DependencyMatcher`` patterns over the parse, RE2 regular
expressions, entity and article-metadata tests, composed with ``all``/``any``/``not``. This module
validates and compiles them and evaluates them on parsed sentences; ``services.alerts.frame``
reads who moved where, how many, with what, and how it was said. The spaCy pipeline (with parser
and lemmatizer) is passed in; only sentences that pass a rule's cheap ``candidates`` test are
parsed.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import re2  # type: ignore[import-untyped]
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from spacy.language import Language
from spacy.matcher import DependencyMatcher, Matcher
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans
from spacy.vocab import Vocab

from services.alerts import frame as frames
from shared.linear import compile_linear
from shared.schemas.articles import Alert, EnrichedArticle, Entity, Frame
from shared.text import headline_case

RULES_PATH = Path(__file__).with_name("rules.yaml")
# Fixed namespace: an alert id is uuid5(rule, article, sentence), identical on every replay.
ALERT_NAMESPACE = uuid.UUID("5d6f1c9e-3b8a-4f57-9a51-2f0e6c1d7b42")
# The title is evaluated like a sentence, with this index: body sentences keep their own indices
# (and the ids of alerts raised on them before titles were read).
TITLE_INDEX = -1
# Pipes a body sentence does not need: its entities come from the entities stage.
_NER_PIPES = ("ner", "domain_ruler")
# Which key an entity's country travels under on a token, for patterns: {"_": {"country": "RU"}}.
# The default is "" and not None: spaCy's Matcher hashes string extension values and fails on None.
if not Token.has_extension("country"):
    Token.set_extension("country", default="")

Severity = Literal["low", "medium", "high", "critical"]


class RulesError(ValueError):
    """A rules file that cannot be used; the message names the file, the rule and the field."""


# --------------------------------------------------------------------------------- the format


class EntityTest(BaseModel):
    """``entity:`` an entity of the sentence has one of ``labels`` (if given) and one of ``countries`` (if given)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    labels: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _something(self) -> EntityTest:
        if not (self.labels or self.countries):
            raise ValueError("entity needs labels or countries")
        return self


class ArticleTest(BaseModel):
    """``article:`` the article's metadata: language (ISO 639-1) and source (domain) in the lists given."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    language: tuple[str, ...] = ()
    source: tuple[str, ...] = ()
    # An article without the field (language or source unknown) passes unless this is false.
    allow_unknown: bool = True


class Condition(BaseModel):
    """One test on a sentence; exactly one key is set.

    - ``tokens: NAME``: a token pattern set of the rule (spaCy Matcher) matches;
    - ``dependency: NAME``: a dependency pattern set of the rule (spaCy DependencyMatcher) matches;
    - ``regex: PATTERN``: an RE2 regular expression occurs in the sentence (case-insensitive);
    - ``entity: {labels, countries}``: an entity of the sentence passes;
    - ``article: {language, source}``: the article's metadata passes;
    - ``any: [...]``, ``all: [...]``, ``not: {...}``: composition.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    tokens: str | None = None
    dependency: str | None = None
    regex: str | None = None
    entity: EntityTest | None = None
    article: ArticleTest | None = None
    any_: tuple[Condition, ...] | None = Field(default=None, alias="any")
    all_: tuple[Condition, ...] | None = Field(default=None, alias="all")
    not_: Condition | None = Field(default=None, alias="not")

    _regex: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _exactly_one_test(self) -> Condition:
        keys = (self.tokens, self.dependency, self.regex, self.entity, self.article, self.any_,
                self.all_, self.not_)
        if sum(k is not None for k in keys) != 1:
            raise ValueError("a condition needs exactly one of tokens, dependency, regex, entity, "
                             "article, any, all, not")
        if self.regex is not None:
            # RE2 (linear time, no backtracking): no pattern can hang a worker.
            self._regex = compile_linear(self.regex, re.IGNORECASE)
        return self

    def children(self) -> tuple[Condition, ...]:
        """The nested conditions."""
        return (self.any_ or ()) + (self.all_ or ()) + ((self.not_,) if self.not_ else ())

    def names(self, kind: str) -> set[str]:
        """Names of the ``tokens`` or ``dependency`` pattern sets this condition refers to."""
        own = getattr(self, kind)
        found = {own} if own else set()
        for child in self.children():
            found |= child.names(kind)
        return found

    def needs_parse(self) -> bool:
        """Whether evaluating this condition needs the parsed sentence."""
        return bool(self.tokens or self.dependency) or any(c.needs_parse() for c in self.children())


class Candidates(BaseModel):
    """The cheap test a sentence passes before it is parsed: one of ``words`` starts a word, or an entity has one of ``entity_labels``.

    A sentence that fails it cannot match the rule: write every word your patterns need here
    (the start of the word is enough: ``troop`` finds troops, ``servicem`` servicemen).
    ``follow``: whole words (pronouns: ``they``) that make a sentence a candidate when the body
    sentence before it is one by its own words or entities ("Troops entered the town. They
    moved on ...": the pronoun may stand for the force named there).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    words: tuple[str, ...] = ()
    entity_labels: tuple[str, ...] = ()
    follow: tuple[str, ...] = ()

    _regex: Any = PrivateAttr(default=None)
    _follow: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _compile(self) -> Candidates:
        if self.words:
            alternation = "|".join(re2.escape(w.lower()) for w in self.words)
            self._regex = compile_linear(f"(?:^|[^\\w])(?:{alternation})", re.IGNORECASE)
        if self.follow:
            alternation = "|".join(re2.escape(w.lower()) for w in self.follow)
            self._follow = compile_linear(f"(?:^|[^\\w])(?:{alternation})(?:$|[^\\w])", re.IGNORECASE)
        return self

    def follows(self, text: str) -> bool:
        """Whether the sentence has one of ``follow`` (checked only after a candidate sentence)."""
        return self._follow is not None and self._follow.search(text) is not None

    def admit(self, text: str, labels: set[str]) -> bool:
        """Whether the sentence is a candidate."""
        if labels.intersection(self.entity_labels):
            return True
        return self._regex is not None and self._regex.search(text) is not None


class FrameSpec(BaseModel):
    """``frame:`` how a match becomes a frame: which lemmas mean which action, who the force is, which modalities fire."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # action -> lemmas ("pull out": the lemma pull with the particle or preposition out)
    actions: dict[frames.Action, tuple[str, ...]]
    # lemmas of the force (troops, soldiers...); entities with these labels count too
    force: tuple[str, ...] = ()
    force_labels: tuple[str, ...] = ("PERSONNEL", "MILITARY_UNIT")
    # a sentence whose every frame has one of these modalities does not fire
    drop_modalities: tuple[frames.Modality, ...] = ("denial",)


class Rule(BaseModel):
    """A declarative alert rule: all ``conditions`` must hold on one sentence (or the title) for it to fire."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")  # snake_case: it is the metric label too
    name: str = ""
    description: str = ""
    severity: Severity = "medium"
    new_only: bool = True  # fire only on sentences no earlier article held (Sentence.seen False)
    headline: bool = True  # evaluate the title too, as sentence TITLE_INDEX
    candidates: Candidates | None = None
    patterns: dict[str, tuple[tuple[dict[str, Any], ...], ...]] = Field(default_factory=dict)
    dependencies: dict[str, tuple[tuple[dict[str, Any], ...], ...]] = Field(default_factory=dict)
    conditions: tuple[Condition, ...] = Field(min_length=1)
    frame: FrameSpec | None = None

    @model_validator(mode="after")
    def _known_names(self) -> Rule:
        for kind, declared in (("tokens", self.patterns), ("dependency", self.dependencies)):
            missing = set().union(*(c.names(kind) for c in self.conditions)) - set(declared)
            if missing:
                where = "patterns" if kind == "tokens" else "dependencies"
                raise ValueError(f"conditions name {kind} sets not in {where}: {sorted(missing)}")
        return self

    def needs_parse(self) -> bool:
        """Whether any condition needs the parsed sentence."""
        return any(c.needs_parse() for c in self.conditions)


@dataclass
class CompiledRule:
    """A rule with its spaCy matchers, bound to one vocabulary."""

    rule: Rule
    matcher: Matcher
    dep_matcher: DependencyMatcher
    needs_parse: bool

    @property
    def id(self) -> str:
        """The rule's id."""
        return self.rule.id


@dataclass
class RuleSet:
    """The compiled rules of one file, ready to evaluate."""

    rules: list[CompiledRule]
    source: str = "<rules>"

    @property
    def ids(self) -> list[str]:
        """The rule ids, in file order."""
        return [r.id for r in self.rules]


def parse_rules(data: Any, *, vocab: Vocab, source: str = "<rules>") -> RuleSet:
    """Validate and compile rules from parsed YAML; raises :class:`RulesError` naming source, rule and field."""
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RulesError(f"{source}: the file needs a top-level 'rules:' list")
    unknown = set(data) - {"rules", "definitions"}
    if unknown:
        raise RulesError(f"{source}: unknown top-level keys {sorted(unknown)} (rules, definitions)")
    compiled: list[CompiledRule] = []
    seen: set[str] = set()
    for n, raw in enumerate(data["rules"]):
        rule_name = raw.get("id", f"#{n + 1}") if isinstance(raw, dict) else f"#{n + 1}"
        where = f"{source}: rule {rule_name}"
        try:
            rule = Rule.model_validate(raw)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(rule)'}: {e['msg']}" for e in error.errors()
            )
            raise RulesError(f"{where}: {problems}") from None
        if rule.id in seen:
            raise RulesError(f"{where}: id: duplicate rule id")
        seen.add(rule.id)
        matcher = Matcher(vocab, validate=True)
        dep_matcher = DependencyMatcher(vocab, validate=True)
        for name, pats in rule.patterns.items():
            try:
                matcher.add(name, [list(p) for p in pats])
            except Exception as error:  # noqa: BLE001 — spaCy raises several types, all with the reason
                raise RulesError(f"{where}: patterns.{name}: {_first_lines(error)}") from None
        for name, pats in rule.dependencies.items():
            try:
                dep_matcher.add(name, [list(p) for p in pats])
            except Exception as error:  # noqa: BLE001
                raise RulesError(f"{where}: dependencies.{name}: {_first_lines(error)}") from None
        compiled.append(CompiledRule(rule, matcher, dep_matcher, rule.needs_parse()))
    return RuleSet(compiled, source)


def load_rules(path: Path | None = None, *, vocab: Vocab | None = None) -> RuleSet:
    """Read, validate and compile a rules file (default ``services/alerts/rules.yaml``).

    ``vocab`` is the spaCy vocabulary of the pipeline the rules will run on; without one, a blank
    English vocabulary (enough to validate). Raises :class:`RulesError` naming file, rule and field.
    """
    path = path or RULES_PATH
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RulesError(f"{path}: cannot read: {error}") from None
    except yaml.YAMLError as error:
        raise RulesError(f"{path}: not valid YAML: {_first_lines(error)}") from None
    if vocab is None:
        import spacy

        vocab = spacy.blank("en").vocab
    return parse_rules(data, vocab=vocab, source=str(path))


def _first_lines(error: BaseException, n: int = 4) -> str:
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    return " ".join(lines[:n])


# --------------------------------------------------------------------------------- evaluation


@dataclass
class _Sentence:
    """One sentence (or the title) under evaluation: text, entities, the lazily parsed doc, cached matches."""

    index: int
    text: str
    seen: bool
    entities: list[Entity]
    offset: int  # where the text starts in the article text (entity offsets); 0 for the title
    doc: Doc | None = None
    by_token: dict[int, Entity] = field(default_factory=dict)
    _matches: dict[tuple[str, str], dict[str, list[tuple[int, ...]]]] = field(default_factory=dict)

    @property
    def labels(self) -> set[str]:
        return {e.label for e in self.entities}

    def matches(self, rule: CompiledRule, kind: str) -> dict[str, list[tuple[int, ...]]]:
        """Matches of the rule's token or dependency patterns: set name -> token index tuples."""
        key = (rule.id, kind)
        if key not in self._matches:
            assert self.doc is not None
            found: dict[str, list[tuple[int, ...]]] = defaultdict(list)
            strings = self.doc.vocab.strings
            if kind == "tokens":
                for match_id, start, end in rule.matcher(self.doc):
                    found[strings[match_id]].append(tuple(range(start, end)))
            else:
                for match_id, token_ids in rule.dep_matcher(self.doc):
                    found[strings[match_id]].append(tuple(token_ids))
            self._matches[key] = found
        return self._matches[key]


Parse = Callable[[list[str], list[bool]], list[Doc]]


def make_parser(nlp: Language, batch_size: int = 64, max_chars: int = 1_000) -> Parse:
    """A parse function over ``nlp``: body sentences without NER (their entities come with the article), titles with it.

    A "sentence" longer than ``max_chars`` (news sentences have 100-400 characters; longer ones
    are run-on text without stops) is parsed up to there only: the dependency matcher's time grows
    faster than linearly with the matches in one sentence (adversarial "forces pull out forces
    pull out ...": 0.5 s at 1,000 characters, 1.6 s at 2,000), so one sentence stays bounded.
    """
    body_disabled = [p for p in _NER_PIPES if p in nlp.pipe_names]

    def parse(texts: list[str], with_ner: list[bool]) -> list[Doc]:
        texts = [t[:max_chars] for t in texts]
        docs: dict[int, Doc] = {}
        plain = [i for i, ner in enumerate(with_ner) if not ner]
        named = [i for i, ner in enumerate(with_ner) if ner]
        if plain:
            with nlp.select_pipes(disable=body_disabled):
                for i, doc in zip(plain, nlp.pipe((texts[i] for i in plain), batch_size=batch_size),
                                  strict=True):
                    docs[i] = doc
        for i, doc in zip(named, nlp.pipe((texts[i] for i in named), batch_size=batch_size), strict=True):
            docs[i] = doc
        return [docs[i] for i in range(len(texts))]

    return parse


@dataclass
class Evaluation:
    """What :func:`evaluate` did: its alerts, and how many sentences it looked at and parsed."""

    alerts: list[Alert]
    sentences: int
    parsed: int


def evaluate(
    article: EnrichedArticle, rules: RuleSet, parse: Parse, *, fired_at: datetime
) -> list[Alert]:
    """Return one Alert per (rule, sentence) that fires, the title first (index -1), then sentence order."""
    return evaluate_counted(article, rules, parse, fired_at=fired_at).alerts


def evaluate_counted(
    article: EnrichedArticle, rules: RuleSet, parse: Parse, *, fired_at: datetime
) -> Evaluation:
    """:func:`evaluate`, also counting the sentences seen and parsed (for the benchmark).

    A rule with ``new_only`` skips sentences marked ``seen`` upstream: a sentence repeated from
    an earlier article is not a new mention, and it already alerted there. A rule that needs the
    parse looks only at sentences that pass its ``candidates`` (or, with ``follow``, come right
    after one that does); only those are parsed, in one batch, and their pronouns resolved.
    """
    sentences = list(_sentences(article))
    # (sentence, rule) pairs still in play once the cheap tests are done
    todo: list[tuple[_Sentence, CompiledRule]] = []
    # body sentences a rule's candidates admitted by their own words or entities, by rule id
    admitted: dict[str, set[int]] = defaultdict(set)
    for sent in sentences:
        for rule in rules.rules:
            cand = rule.rule.candidates
            own = cand is None or cand.admit(sent.text, sent.labels)
            if own:
                admitted[rule.id].add(sent.index)
            if rule.rule.new_only and sent.seen:
                continue
            if sent.index == TITLE_INDEX and not rule.rule.headline:
                continue
            if rule.needs_parse and cand is not None and not own and not (
                    sent.index > 0 and sent.index - 1 in admitted[rule.id] and cand.follows(sent.text)):
                continue
            todo.append((sent, rule))
    to_parse = [s for s in sentences if any(s is t and r.needs_parse for t, r in todo)]
    if to_parse:
        docs = parse([headline_case(s.text, article.text) if s.index == TITLE_INDEX else s.text
                      for s in to_parse], [s.index == TITLE_INDEX for s in to_parse])
        for sent, doc in zip(to_parse, docs, strict=True):
            _attach(sent, doc, article.entities, article.title_entities)
        # a pronoun may stand for the subject of the sentence before, when that one was parsed too
        parsed = {s.index: s.doc for s in to_parse}
        for sent in to_parse:
            assert sent.doc is not None
            previous = parsed.get(sent.index - 1) if sent.index > 0 else None
            frames.resolve_pronouns(sent.doc, previous)
    alerts: list[Alert] = []
    for sent, rule in todo:
        fired = _fire(sent, rule, article)
        if fired is not None:
            alerts.append(_make_alert(article, sent, rule.rule, fired, fired_at))
    return Evaluation(alerts, len(sentences), len(to_parse))


def _sentences(article: EnrichedArticle) -> Iterator[_Sentence]:
    by_sentence: dict[int, list[Entity]] = defaultdict(list)
    for entity in article.entities:
        by_sentence[entity.sentence].append(entity)
    if article.title and article.title.strip():
        # The entities stage's title entities (with countries) admit the title by their labels
        # too; the parse's NER adds what they miss (see _attach).
        yield _Sentence(TITLE_INDEX, article.title.strip(), False, list(article.title_entities or []), 0)
    for s in article.sentences:
        yield _Sentence(s.index, s.text, s.seen, by_sentence.get(s.index, []), s.start)


def _attach(sent: _Sentence, doc: Doc, body_entities: list[Entity],
            given: list[Entity] | None = None) -> None:
    """Put the sentence's entities on the doc (labels for patterns, countries on tokens); ``given``: the title's from the entities stage."""
    if sent.index == TITLE_INDEX:
        sent.entities = frames.title_entities(doc, sent.text, body_entities, given)
    spans: list[tuple[Span, Entity]] = []
    for entity in sent.entities:
        span = doc.char_span(entity.start - sent.offset, entity.end - sent.offset, label=entity.label,
                             alignment_mode="expand")
        if span is not None and len(span):
            spans.append((span, entity))
    kept = set(filter_spans([s for s, _ in spans]))
    ents = []
    for span, entity in spans:
        if span in kept:
            ents.append(span)
            for token in span:
                sent.by_token[token.i] = entity
                if entity.country:
                    token._.country = entity.country
    doc.ents = sorted(ents, key=lambda s: s.start)
    sent.doc = doc


@dataclass
class _Fired:
    frames: list[Frame]
    tokens: list[tuple[int, ...]]


def _fire(sent: _Sentence, rule: CompiledRule, article: EnrichedArticle) -> _Fired | None:
    if rule.needs_parse and sent.doc is None:
        return None
    hits: list[tuple[int, ...]] = []
    if not all(_holds(c, sent, rule, article, hits) for c in rule.rule.conditions):
        return None
    spec = rule.rule.frame
    if spec is None or sent.doc is None:
        return _Fired([], hits)
    found = frames.extract_frames(sent.doc, hits, sent.by_token, spec.actions, spec.force,
                                  spec.force_labels, sent.entities)
    kept = [f for f in found if f.modality not in spec.drop_modalities]
    if found and not kept:
        return None  # every movement in it is denied or negated
    return _Fired(kept, hits)


def _holds(cond: Condition, sent: _Sentence, rule: CompiledRule, article: EnrichedArticle,
           hits: list[tuple[int, ...]], *, positive: bool = True) -> bool:
    """Whether ``cond`` holds; token matches of positive conditions are added to ``hits``."""
    if cond.tokens is not None or cond.dependency is not None:
        kind, name = ("tokens", cond.tokens) if cond.tokens is not None else ("dependency", cond.dependency)
        assert name is not None
        found = sent.matches(rule, kind).get(name, [])
        if found and positive:
            hits.extend(found)
        return bool(found)
    if cond.regex is not None:
        return cond._regex.search(sent.text) is not None
    if cond.entity is not None:
        test = cond.entity
        return any((not test.labels or e.label in test.labels)
                   and (not test.countries or e.country in test.countries) for e in sent.entities)
    if cond.article is not None:
        return _article_passes(cond.article, article)
    if cond.not_ is not None:
        return not _holds(cond.not_, sent, rule, article, hits, positive=not positive)
    if cond.any_ is not None:
        results = [_holds(c, sent, rule, article, hits, positive=positive) for c in cond.any_]
        return any(results)
    assert cond.all_ is not None
    return all(_holds(c, sent, rule, article, hits, positive=positive) for c in cond.all_)


def _article_passes(test: ArticleTest, article: EnrichedArticle) -> bool:
    for wanted, value in ((test.language, article.language), (test.source, article.source)):
        if not wanted:
            continue
        if value is None:
            if not test.allow_unknown:
                return False
        elif value.lower() not in {w.lower() for w in wanted}:
            return False
    return True


def alert_id(rule_id: str, article_id: str, sentence_index: int) -> str:
    """Return the stable id of an alert: the same rule, article and sentence give the same id."""
    return str(uuid.uuid5(ALERT_NAMESPACE, f"{rule_id}\x1f{article_id}\x1f{sentence_index}"))


def _make_alert(article: EnrichedArticle, sent: _Sentence, rule: Rule, fired: _Fired,
                fired_at: datetime) -> Alert:
    return Alert(
        alert_id=alert_id(rule.id, article.article_id, sent.index),
        rule_id=rule.id,
        rule_name=rule.name,
        severity=rule.severity,
        article_id=article.article_id,
        sentence_index=sent.index,
        evidence=sent.text,
        entities=sent.entities,
        frame=fired.frames[0] if fired.frames else None,
        frames=fired.frames,
        title=article.title,
        url=article.url,
        source=article.source,
        language=article.language,
        published_at=article.published_at,
        ingested_at=article.ingested_at,
        fired_at=fired_at,
    )


def rule_summary(rules: RuleSet | Iterable[CompiledRule]) -> list[dict[str, Any]]:
    """Summarise each rule (id, severity, new_only) for the service's log."""
    items = rules.rules if isinstance(rules, RuleSet) else list(rules)
    return [{"id": r.id, "severity": r.rule.severity, "new_only": r.rule.new_only} for r in items]
