"""Tests for services/alerts/rules.py and compile.py (no model).

Errors name file, rule and field; regexes are RE2.
"""

from __future__ import annotations

import pytest
import spacy
import yaml

from services.alerts.compile import load_rules
from services.alerts.evaluate import evaluate_counted, make_parser
from services.alerts.rules import RULES_PATH, RulesError
from shared.linear import is_linear

from .conftest import FIRED_AT, GOOD, write


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (
            {**GOOD, "patterns": {"ship": [[{"LEMA": "warship"}]]}},
            "patterns.ship",
        ),  # spaCy key typo
        (
            {**GOOD, "conditions": [{"tokens": "boat"}]},
            "conditions name tokens sets not in patterns",
        ),
        (
            {**GOOD, "conditions": [{"regex": "(?<=x)y"}]},
            "conditions.0: Value error, lookaround",
        ),  # not RE2
        ({**GOOD, "conditions": [{"regex": "(a)\\1"}]}, "conditions.0: Value error, backreference"),
        ({**GOOD, "conditions": [{"tokens": "ship", "regex": "x"}]}, "exactly one of"),
        ({**GOOD, "severity": "urgent"}, "severity"),
        ({**GOOD, "conditions": [{"matches": "ship"}]}, "conditions.0.matches"),  # unknown key
        ({**GOOD, "id": "Bad-Id"}, "id"),
        ({**GOOD, "frame": {"actions": {"sail": ["sail"]}}}, "frame.actions"),  # not an action
        (
            {
                **GOOD,
                "dependencies": {
                    "d": [
                        [
                            {"RIGHT_ID": "a", "RIGHT_ATTRS": {}},
                            {"LEFT_ID": "b", "REL_OP": ">", "RIGHT_ID": "c", "RIGHT_ATTRS": {}},
                        ]
                    ]
                },
            },
            "dependencies.d",
        ),
    ],
)
def test_an_invalid_rule_is_refused_naming_file_rule_and_field(tmp_path, rule, field):
    path = write(tmp_path / "rules.yaml", rule)
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"rule {rule['id']}" in message
    assert field in message


def test_duplicate_ids_unknown_keys_and_bad_yaml_are_refused(tmp_path):
    with pytest.raises(RulesError, match="duplicate rule id"):
        load_rules(write(tmp_path / "a.yaml", GOOD, GOOD))
    (tmp_path / "b.yaml").write_text("rules: [\n", encoding="utf-8")
    with pytest.raises(RulesError, match="not valid YAML"):
        load_rules(tmp_path / "b.yaml")
    (tmp_path / "c.yaml").write_text("rule: []\n", encoding="utf-8")
    with pytest.raises(RulesError, match="top-level 'rules:'"):
        load_rules(tmp_path / "c.yaml")


def test_rule_regexes_and_candidate_words_are_compiled_with_re2(tmp_path):
    rule = {**GOOD, "candidates": {"words": ["warship"]}, "conditions": [{"regex": "frigates?"}]}
    (compiled,) = load_rules(write(tmp_path / "r.yaml", rule)).rules
    assert is_linear(compiled.rule.conditions[0]._regex)
    assert is_linear(compiled.rule.candidates._regex)


def test_the_shipped_rules_load_and_troop_movement_uses_lemmas_not_inflections():
    rules = load_rules()
    (troop,) = [r.rule for r in rules.rules if r.id == "troop_movement"]
    assert troop.severity == "high" and troop.new_only and troop.headline
    lemmas = set()

    def collect(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "LEMMA":
                    lemmas.update(value["IN"] if isinstance(value, dict) else [value])
                collect(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                collect(value)

    collect([troop.patterns, troop.dependencies])
    assert {"troop", "deploy", "arrive", "withdraw"} <= lemmas
    assert not [w for w in lemmas if w.endswith(("ed", "ies"))], "inflections instead of lemmas"
    assert not any(c.regex for c in troop.conditions)


def test_follow_words_admit_the_sentence_right_after_a_candidate_only(tmp_path, make_enriched):
    nlp = spacy.blank("en")
    rule = {
        **GOOD,
        "candidates": {"words": ["troop"], "follow": ["they"]},
        "patterns": {"moved": [[{"LOWER": "moved"}]]},
        "conditions": [{"tokens": "moved"}],
    }
    rules = load_rules(write(tmp_path / "r.yaml", rule), vocab=nlp.vocab)
    text = "Markets moved. They moved up. Troops moved in. They moved on. They moved again. Theyre moved."
    result = evaluate_counted(make_enriched(text), rules, make_parser(nlp), fired_at=FIRED_AT)
    # "They moved on" follows a sentence admitted by its own word; "They moved again" follows one
    # admitted only by "they", "They moved up" a non-candidate; "Theyre" is not the word
    assert [a.sentence_index for a in result.alerts] == [2, 3]
    assert result.parsed == 2


def test_every_armed_group_the_patterns_name_makes_its_sentence_a_candidate():
    # a group name the candidates miss would leave its sentence unparsed: its patterns could never match
    data = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    groups = data["definitions"]["armed_groups"]
    (troop,) = [r.rule for r in load_rules().rules if r.id == "troop_movement"]
    assert troop.candidates is not None
    missed = [
        g for g in groups if not troop.candidates.admit(f"Yesterday the {g} went north.", set())
    ]
    assert missed == []
    assert not troop.candidates.admit("Yesterday the company went north.", set())
