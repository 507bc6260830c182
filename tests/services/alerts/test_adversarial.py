"""Nothing stalls the alerts stage: rules evaluate in linear time on adversarial sentences, and a
rule whose terms could backtrack without end is refused when the rules load."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from services.alerts import core
from shared.schemas.articles import EnrichedArticle, Entity, Sentence
from tests.factories import assert_linear, repeat_to

FIRED_AT = datetime(2019, 4, 4, tzinfo=UTC)
# Patterns kept in re, with why: the rules' vocabularies need lookarounds (whole words, the
# contexts a term must not have), which RE2 lacks; load_rules refuses terms that could
# backtrack without end (core.backtracking_risk), and the timings below check the rest.
ALLOWED_RE = {
    "_WORD": "a run of \\w (tokeniser)",
    "Rule._compiled": "rules.yaml vocabularies: lookarounds; terms checked by backtracking_risk",
}
# Runs of one unit, many built from the vocabularies' own words so every term gets to work.
UNITS = [
    "a",
    "a ",
    "-",
    ".",
    "'",
    "1 ",
    "troops ",
    "pull ",
    "pull a.",
    "boost",
    "boost ",
    "more ",
    "offer ",
    "sent ",
    "scale back ",
    "leave ",
    "forces ",
    "army ",
    "x.offer ",
    "troops of ",
    "soldiers sent troops ",
]


def _article(text: str) -> EnrichedArticle:
    return EnrichedArticle(
        article_id="a1",
        text=text,
        ingested_at=FIRED_AT,
        sentences=[Sentence(index=0, start=0, end=len(text), text=text)],
        entities=[Entity(text="x", label="GPE", start=0, end=1, sentence=0, canonical="x")],
    )


@pytest.fixture(scope="module")
def rules() -> list[core.Rule]:
    return core.load_rules()


def test_patterns_are_the_allowlisted_ones(rules):
    found = {name for name, value in vars(core).items() if isinstance(value, re.Pattern)}
    assert found <= set(ALLOWED_RE)
    for rule in rules:
        for pattern in rule._compiled.values():
            assert isinstance(pattern, re.Pattern)  # "Rule._compiled" above
        for terms in rule.vocabularies.values():
            for term in terms:
                assert core.backtracking_risk(term) is None


@pytest.mark.parametrize("unit", UNITS)
def test_evaluate_scales_linearly(rules, unit):
    def make(n: int) -> Callable[[], object]:
        article = _article(repeat_to(unit, n))
        return lambda: core.evaluate(article, rules, fired_at=FIRED_AT)

    assert_linear(make, 20_000, repr(unit))


def test_near_conditions_scale_linearly_when_no_pair_is_near(rules):
    # Every hit of one vocabulary against every hit of the other was quadratic.
    def make(n: int) -> Callable[[], object]:
        k = n // 14
        article = _article("troops " * k + "a " * 7 + "sent " * k)
        return lambda: core.evaluate(article, rules, fired_at=FIRED_AT)

    assert_linear(make, 20_000, "troops ... sent")


def test_a_sentence_of_200k_characters_is_evaluated(rules):
    text = repeat_to("Russian troops were sent to Caracas and more soldiers will follow ", 200_000)
    assert core.evaluate(_article(text), rules, fired_at=FIRED_AT)


@pytest.mark.parametrize(
    ("term", "risk"),
    [
        (r"(?:a+)+b", "an unbounded repetition inside another repetition"),
        (r"(?:\w+\s?){0,9}x", "an unbounded repetition inside another repetition"),
        (r"(?:troop|troops)*", "an alternation inside a repetition"),
        (r"(troops) \1", "a backreference"),
    ],
)
def test_a_term_that_can_backtrack_without_end_is_refused(term, risk):
    assert core.backtracking_risk(term) == risk
    with pytest.raises(ValueError, match="vocabulary"):
        core.Rule.model_validate(
            {"id": "bad", "vocabularies": {"v": [term]}, "conditions": [{"match": "v"}]}
        )


@pytest.mark.parametrize(
    "term", [r"(?:[\w',.-]+ ){0,4}?home", r"(?:\w+ )?into", r"troops?(?! of fans)", r"x\w* y"]
)
def test_terms_of_the_shapes_the_rules_use_are_accepted(term):
    assert core.backtracking_risk(term) is None
