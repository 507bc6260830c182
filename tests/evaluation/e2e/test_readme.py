"""The end-to-end figures people read are the committed run's: README.md and docs/bench.md match bench/results.json."""

from __future__ import annotations

import json

import pytest

from evaluation.e2e import readme


def committed() -> dict:
    return json.loads(readme.RESULTS.read_text())


def test_the_pages_hold_the_committed_runs_figures():
    assert readme.update(committed(), check=True) == [], (
        "run `python -m evaluation.e2e.readme` and commit the pages"
    )


def test_the_summary_says_each_goal_and_its_figure():
    results = committed()
    text = readme.summary(results)
    assert f"{results['ratio_to_bare_spacy']:.2f} of bare spaCy" in text
    assert "goal 0.9" in text and "goal 1.3" in text and "goal 1 s" in text


def test_a_block_is_replaced_between_its_markers_only():
    text = "a\n<!-- bench:x -->\nold\n<!-- /bench:x -->\nb\n"
    assert readme.replaced(text, "x", "new") == "a\n<!-- bench:x -->\nnew\n<!-- /bench:x -->\nb\n"
    with pytest.raises(ValueError, match="markers"):
        readme.replaced("no markers", "x", "new")
