"""Alert rules compiled to spaCy matchers: CompiledRule, RuleSet and load_rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import spacy
from spacy.matcher import DependencyMatcher, Matcher
from spacy.vocab import Vocab

from services.alerts.extensions import register_extensions
from services.alerts.rules import (
    RULES_PATH,
    Rule,
    RulesError,
    first_lines,
    read_rules,
    validate_rules,
)


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


def parse_rules(data: Any, *, vocab: Vocab, source: str = "<rules>") -> RuleSet:
    """Validate and compile rules from parsed YAML; raises :class:`RulesError` naming source, rule and field.

    Registers the token attributes the patterns may read (``services.alerts.extensions``).
    """
    register_extensions()
    compiled = [
        compile_rule(rule, vocab=vocab, where=where)
        for where, rule in validate_rules(data, source=source)
    ]
    return RuleSet(compiled, source)


def load_rules(path: Path | None = None, *, vocab: Vocab | None = None) -> RuleSet:
    """Read, validate and compile a rules file (default ``services/alerts/rules.yaml``).

    ``vocab`` is the spaCy vocabulary of the pipeline the rules will run on; without one, a blank
    English vocabulary (enough to validate). Raises :class:`RulesError` naming file, rule and field.
    """
    path = path or RULES_PATH
    data = read_rules(path)
    if vocab is None:
        vocab = spacy.blank("en").vocab
    return parse_rules(data, vocab=vocab, source=str(path))


def rule_summary(rules: RuleSet | Iterable[CompiledRule]) -> list[dict[str, Any]]:
    """Summarise each rule (id, severity, new_only) for the service's log."""
    items = rules.rules if isinstance(rules, RuleSet) else list(rules)
    return [{"id": r.id, "severity": r.rule.severity, "new_only": r.rule.new_only} for r in items]
