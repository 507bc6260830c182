"""The alert rules format: the YAML model, reading and validating it, RulesError.

Rules are declarative (``rules.yaml``): spaCy ``Matcher`` patterns over tokens (lemmas, part of
speech, entity labels, country codes), ``DependencyMatcher`` patterns over the parse, RE2 regular
expressions, entity and article-metadata tests, composed with ``all``/``any``/``not``. This
module knows the format only; ``services.alerts.compile`` turns valid rules into matchers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import re2  # type: ignore[import-untyped]
import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from shared.linear import compile_linear
from shared.schemas.enums import Action, Modality, Severity

RULES_PATH = Path(__file__).with_name("rules.yaml")


class RulesError(ValueError):
    """A rules file that cannot be used; the message names the file, the rule and the field."""


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
        keys = (
            self.tokens,
            self.dependency,
            self.regex,
            self.entity,
            self.article,
            self.any_,
            self.all_,
            self.not_,
        )
        if sum(k is not None for k in keys) != 1:
            raise ValueError(
                "a condition needs exactly one of tokens, dependency, regex, entity, "
                "article, any, all, not"
            )
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
            self._follow = compile_linear(
                f"(?:^|[^\\w])(?:{alternation})(?:$|[^\\w])", re.IGNORECASE
            )
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
    actions: dict[Action, tuple[str, ...]]
    # lemmas of the force (troops, soldiers...); entities with these labels count too
    force: tuple[str, ...] = ()
    force_labels: tuple[str, ...] = ("PERSONNEL", "MILITARY_UNIT")
    # a sentence whose every frame has one of these modalities does not fire
    drop_modalities: tuple[Modality, ...] = ("denial",)


# How a rule with examples decides: its classifier alone, its syntax conditions alone, both must
# say yes, or either may.
Decide = Literal["examples", "syntax", "both", "either"]


class Rule(BaseModel):
    """A declarative alert rule: its ``conditions`` on one sentence (or the title), its examples' classifier, or both.

    ``examples``: files of sentences that should and should not fire (relative to the rules
    file); a classifier learned from them scores each candidate sentence, firing at
    ``threshold``. ``decide`` says how it combines with the ``conditions``: ``examples``,
    ``syntax``, ``both`` or ``either`` (default: ``both`` with examples and conditions).
    Whatever decides, the conditions' matches build the frame, and a sentence whose every
    movement is denied stays silent.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")  # snake_case: it is the metric label too
    name: str = ""
    description: str = ""
    severity: Severity = "medium"
    new_only: bool = True  # fire only on sentences no earlier article held (Sentence.seen False)
    headline: bool = True  # evaluate the title too (services.alerts.evaluate.TITLE_INDEX)
    candidates: Candidates | None = None
    patterns: dict[str, tuple[tuple[dict[str, Any], ...], ...]] = Field(default_factory=dict)
    dependencies: dict[str, tuple[tuple[dict[str, Any], ...], ...]] = Field(default_factory=dict)
    conditions: tuple[Condition, ...] = ()
    frame: FrameSpec | None = None
    examples: tuple[str, ...] = ()
    decide: Decide | None = None
    threshold: float = Field(default=0.5, gt=0, lt=1)

    @model_validator(mode="after")
    def _decides_with_what_it_has(self) -> Rule:
        needs = {
            "examples": ("examples",),
            "syntax": ("conditions",),
            "both": ("examples", "conditions"),
            "either": ("examples", "conditions"),
        }[self.deciding]
        missing = [field for field in needs if not getattr(self, field)]
        if missing:
            raise ValueError(f"decide: {self.deciding} needs {' and '.join(missing)}")
        return self

    @property
    def deciding(self) -> Decide:
        """How the rule decides (``decide``, or its default)."""
        if self.decide is not None:
            return self.decide
        if self.examples and self.conditions:
            return "both"
        return "examples" if self.examples else "syntax"

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


def read_rules(path: Path) -> Any:
    """The parsed YAML of a rules file; raises :class:`RulesError` when it cannot be read or parsed."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RulesError(f"{path}: cannot read: {error}") from None
    except yaml.YAMLError as error:
        raise RulesError(f"{path}: not valid YAML: {first_lines(error)}") from None


def validate_rules(data: Any, *, source: str = "<rules>") -> Iterator[tuple[str, Rule]]:
    """Each rule of parsed YAML, validated, with where it is (``"<source>: rule <id>"``), in file order.

    Lazy: a caller that compiles each rule as it comes reports the first problem of the file,
    whether in the format or in the patterns. Raises :class:`RulesError` naming source, rule and
    field (the file's shape is checked before the first rule).
    """
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RulesError(f"{source}: the file needs a top-level 'rules:' list")
    unknown = set(data) - {"rules", "definitions"}
    if unknown:
        raise RulesError(f"{source}: unknown top-level keys {sorted(unknown)} (rules, definitions)")
    seen: set[str] = set()
    for n, raw in enumerate(data["rules"]):
        rule_name = raw.get("id", f"#{n + 1}") if isinstance(raw, dict) else f"#{n + 1}"
        where = f"{source}: rule {rule_name}"
        try:
            rule = Rule.model_validate(raw)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(rule)'}: {e['msg']}"
                for e in error.errors()
            )
            raise RulesError(f"{where}: {problems}") from None
        if rule.id in seen:
            raise RulesError(f"{where}: id: duplicate rule id")
        seen.add(rule.id)
        yield where, rule


def first_lines(error: BaseException, n: int = 4) -> str:
    """The first ``n`` non-blank lines of an error's text, on one line (for a RulesError)."""
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    return " ".join(lines[:n])
