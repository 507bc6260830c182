"""Alert rules compiled to spaCy matchers: CompiledRule, RuleSet and load_rules."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import spacy
from spacy.matcher import DependencyMatcher, Matcher
from spacy.vocab import Vocab

from services.alerts.classifier import (
    Classifier,
    held_out_probabilities,
    read_artefact,
    train,
    write_artefact,
)
from services.alerts.examples import ExamplesError, read_examples
from services.alerts.extensions import register_extensions
from services.alerts.rules import (
    RULES_PATH,
    Decide,
    Rule,
    RulesError,
    first_lines,
    read_rules,
    validate_rules,
)
from shared.embed import SentenceEmbedder

log = logging.getLogger("newswatch")


@dataclass
class CompiledRule:
    """A rule with its spaCy matchers, bound to one vocabulary."""

    rule: Rule
    matcher: Matcher
    dep_matcher: DependencyMatcher
    needs_parse: bool
    classifier: Classifier | None = None

    @property
    def id(self) -> str:
        """The rule's id."""
        return self.rule.id

    @property
    def deciding(self) -> Decide:
        """How the rule decides: examples, syntax, both or either."""
        return self.rule.deciding


@dataclass
class RuleSet:
    """The compiled rules of one file, ready to evaluate."""

    rules: list[CompiledRule]
    source: str = "<rules>"
    # What rules by example embed candidate sentences with (None: no rule has examples).
    embed: SentenceEmbedder | None = None
    # Every file the rules were read from (the rules file, examples, artefacts): hot reload watches them.
    files: list[Path] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        """The rule ids, in file order."""
        return [r.id for r in self.rules]


def compile_rule(rule: Rule, *, vocab: Vocab, where: str) -> CompiledRule:
    """Build a rule's Matcher and DependencyMatcher on ``vocab``; raises :class:`RulesError` naming ``where`` and the pattern set."""
    matcher = Matcher(vocab, validate=True)
    dep_matcher = DependencyMatcher(vocab, validate=True)
    for name, pats in rule.patterns.items():
        try:
            matcher.add(name, [list(p) for p in pats])
        except Exception as error:  # noqa: BLE001 — spaCy raises several types, all with the reason
            raise RulesError(f"{where}: patterns.{name}: {first_lines(error)}") from None
    for name, pats in rule.dependencies.items():
        try:
            dep_matcher.add(name, [list(p) for p in pats])
        except Exception as error:  # noqa: BLE001
            raise RulesError(f"{where}: dependencies.{name}: {first_lines(error)}") from None
    return CompiledRule(rule, matcher, dep_matcher, rule.needs_parse())


def parse_rules(
    data: Any,
    *,
    vocab: Vocab,
    source: str = "<rules>",
    base: Path | None = None,
    embed: SentenceEmbedder | None = None,
) -> RuleSet:
    """Validate and compile rules from parsed YAML; raises :class:`RulesError` naming source, rule and field.

    Registers the token attributes the patterns may read (``services.alerts.extensions``). A rule
    with ``examples`` (files relative to ``base``) gets its classifier: the artefact beside them
    when it was learned from these examples with this model, else learned now, which needs
    ``embed``.
    """
    register_extensions()
    compiled: list[CompiledRule] = []
    files: list[Path] = []
    for where, rule in validate_rules(data, source=source):
        done = compile_rule(rule, vocab=vocab, where=where)
        if rule.examples:
            done.classifier, used = classifier_for(rule, base or Path.cwd(), embed, where=where)
            files.extend(used)
        compiled.append(done)
    return RuleSet(compiled, source, embed if any(r.classifier for r in compiled) else None, files)


def artefact_path(rule: Rule, base: Path) -> Path:
    """Where a rule's learned classifier is kept: beside its first examples file."""
    return (base / rule.examples[0]).parent / f"{rule.id}.classifier.json"


def classifier_for(
    rule: Rule, base: Path, embed: SentenceEmbedder | None, *, where: str
) -> tuple[Classifier, list[Path]]:
    """The rule's classifier (its artefact if fresh, else learned now) and the files it came from."""
    paths = [base / name for name in rule.examples]
    try:
        examples = read_examples(paths, rule=rule.id)
    except ExamplesError as error:
        raise RulesError(f"{where}: examples: {error}") from None
    artefact = artefact_path(rule, base)
    stored = read_artefact(artefact)
    if embed is None:
        if stored is None or stored.examples != examples.digest:
            raise RulesError(
                f"{where}: its classifier must be learned from {', '.join(map(str, paths))}, "
                f"which needs the embedding model (newswatch rules build)"
            )
        return _with_threshold(stored, rule), [*paths, artefact]
    if stored is not None and stored.fresh_for(examples, embed.digest):
        return _with_threshold(stored, rule), [*paths, artefact]
    started = time.perf_counter()
    learned = train(examples, embed(examples.texts), model=embed.digest, threshold=rule.threshold)
    log.warning(
        "alerts: rule %s: classifier learned from %d examples in %.1f s (%s); "
        "`newswatch rules build` stores it",
        rule.id,
        len(examples.items),
        time.perf_counter() - started,
        "no artefact" if stored is None else "its artefact was learned from other examples",
    )
    return learned, [*paths, artefact]


@dataclass(frozen=True)
class Built:
    """What ``newswatch rules build`` did for one rule."""

    rule: Rule
    artefact: Path
    classifier: Classifier
    seconds: float
    # (text, should fire, P(fire) when the example was held out) for those on the wrong side
    doubtful: list[tuple[str, bool, float]]


def build_artefacts(path: Path, embed: SentenceEmbedder) -> list[Built]:
    """Learn every rule's classifier from its examples and store it beside them (``newswatch rules build``)."""
    built = []
    for where, rule in validate_rules(read_rules(path), source=str(path)):
        if not rule.examples:
            continue
        paths = [path.parent / name for name in rule.examples]
        try:
            examples = read_examples(paths, rule=rule.id)
        except ExamplesError as error:
            raise RulesError(f"{where}: examples: {error}") from None
        started = time.perf_counter()
        vectors = embed(examples.texts)
        classifier = train(examples, vectors, model=embed.digest, threshold=rule.threshold)
        seconds = time.perf_counter() - started
        artefact = artefact_path(rule, path.parent)
        write_artefact(classifier, artefact)
        held_out = held_out_probabilities(examples, vectors)
        doubtful = [
            (item.text, item.fire, float(p))
            for item, p in zip(examples.items, held_out, strict=True)
            if (p >= rule.threshold) != item.fire
        ]
        built.append(Built(rule, artefact, classifier, seconds, doubtful))
    return built


def _with_threshold(classifier: Classifier, rule: Rule) -> Classifier:
    # The rule's threshold wins over the stored one: changing it needs no rebuild.
    if classifier.threshold == rule.threshold:
        return classifier
    return Classifier(
        classifier.weights,
        classifier.bias,
        rule.threshold,
        classifier.model,
        classifier.examples,
        classifier.counts,
    )


def load_rules(
    path: Path | None = None, *, vocab: Vocab | None = None, embed: SentenceEmbedder | None = None
) -> RuleSet:
    """Read, validate and compile a rules file (default ``services/alerts/rules.yaml``).

    ``vocab`` is the spaCy vocabulary of the pipeline the rules will run on; without one, a blank
    English vocabulary (enough to validate). ``embed``: the sentence embedder rules by example
    score with. Raises :class:`RulesError` naming file, rule and field.
    """
    path = path or RULES_PATH
    data = read_rules(path)
    if vocab is None:
        vocab = spacy.blank("en").vocab
    rules = parse_rules(data, vocab=vocab, source=str(path), base=path.parent, embed=embed)
    rules.files.insert(0, path)
    return rules


def rule_summary(rules: RuleSet | Iterable[CompiledRule]) -> list[dict[str, Any]]:
    """Summarise each rule (id, severity, new_only) for the service's log."""
    items = rules.rules if isinstance(rules, RuleSet) else list(rules)
    return [{"id": r.id, "severity": r.rule.severity, "new_only": r.rule.new_only} for r in items]
