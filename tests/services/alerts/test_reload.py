"""Tests for services/alerts/reload.py (no model).

An edited rules file is reloaded, an invalid one keeps the last good rules.
"""

from __future__ import annotations

import logging

from services.alerts.compile import load_rules
from services.alerts.reload import ReloadingRules

from .conftest import GOOD, write


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_edited_rules_file_is_reloaded_and_an_invalid_one_keeps_the_previous_rules(
    tmp_path, caplog
):
    path = write(tmp_path / "rules.yaml", GOOD)
    clock = Clock()
    reloading = ReloadingRules(path, load_rules, check_s=1.0, clock=clock)
    assert reloading.current().ids == ["ships"]

    write(path, GOOD, {**GOOD, "id": "frigates"})
    clock.now = 0.5  # within the interval: not looked at yet
    assert reloading.current().ids == ["ships"]
    clock.now = 1.5
    assert reloading.current().ids == ["ships", "frigates"]

    path.write_text("rules: [{id: broken, conditions: [{tokens: nowhere}]}]\n", encoding="utf-8")
    clock.now = 3.0
    with caplog.at_level(logging.ERROR, logger="newswatch"):
        assert reloading.current().ids == ["ships", "frigates"]
    assert "rules file rejected, the previous rules stay in force" in caplog.text
    assert "rule broken" in caplog.text and str(path) in caplog.text
    assert reloading.rejected == 1

    write(path, {**GOOD, "id": "fixed"})
    clock.now = 4.5
    assert reloading.current().ids == ["fixed"]
    assert reloading.reloads == 2


def test_edited_examples_are_reloaded_and_an_invalid_examples_file_keeps_the_previous_rules(
    tmp_path, caplog
):
    from shared.embed import SentenceEmbedder

    embed = SentenceEmbedder()
    examples = tmp_path / "moves.yaml"
    examples.write_text(
        "fire: [Troops were sent to the border.]\nsilent: [The unit was sold.]\n", encoding="utf-8"
    )
    path = write(tmp_path / "rules.yaml", {"id": "moves", "examples": ["moves.yaml"]})
    clock = Clock()
    reloading = ReloadingRules(path, lambda p: load_rules(p, embed=embed), check_s=1.0, clock=clock)
    first = reloading.current().rules[0].classifier
    assert first is not None and first.counts == (1, 1)

    examples.write_text(
        "fire: [Troops were sent to the border., Marines landed.]\nsilent: [The unit was sold.]\n",
        encoding="utf-8",
    )
    clock.now = 1.5
    again = reloading.current().rules[0].classifier
    assert again is not None and again.counts == (2, 1) and reloading.reloads == 1

    examples.write_text("fire: [Only one side.]\n", encoding="utf-8")
    clock.now = 3.0
    with caplog.at_level(logging.ERROR, logger="newswatch"):
        assert reloading.current().rules[0].classifier is again
    assert reloading.rejected == 1 and "both sides" in caplog.text
