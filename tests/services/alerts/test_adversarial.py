"""Nothing stalls the alerts stage (slow: the real model).

No backtracking pattern runs on input text, and the parse of one sentence is bounded.
"""

from __future__ import annotations

import re
import time

import pytest

from services.alerts import compile, evaluate, frame, modality, parties, pronouns, rules
from services.alerts.compile import load_rules
from shared.linear import is_linear
from shared.schemas.articles import EnrichedArticle, Sentence
from tests.factories import repeat_to

from .conftest import FIRED_AT


def _article(text: str) -> EnrichedArticle:
    return EnrichedArticle(
        article_id="a1",
        text=text,
        ingested_at=FIRED_AT,
        sentences=[Sentence(index=0, start=0, end=len(text), text=text)],
    )


def test_no_backtracking_pattern_in_the_alerts_modules():
    for module in (compile, evaluate, frame, modality, parties, pronouns, rules):
        assert not [n for n, v in vars(module).items() if isinstance(v, re.Pattern)], (
            module.__name__
        )


def test_every_regex_of_the_shipped_rules_is_re2():
    for rule in load_rules().rules:
        if rule.rule.candidates is not None:
            assert is_linear(rule.rule.candidates._regex)
        stack = list(rule.rule.conditions)
        while stack:
            cond = stack.pop()
            stack.extend(cond.children())
            if cond.regex is not None:
                assert is_linear(cond._regex)


@pytest.mark.slow
@pytest.mark.parametrize(
    "unit", ["troops ", "soldiers sent troops ", "a ", "troops of ", "-", "forces pull out "]
)
def test_a_sentence_of_200k_characters_is_evaluated_within_2_s(ruleset, parse, unit):
    article = _article(repeat_to(unit, 200_000))
    started = time.perf_counter()
    evaluate.evaluate(article, ruleset, parse, fired_at=FIRED_AT)
    assert time.perf_counter() - started < 2.0
