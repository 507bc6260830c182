"""The evaluation tree's own code: the interval printed with the labelled sets' figures, the floors' exit code, the corpora setting."""

from __future__ import annotations

from pathlib import Path

from evaluation.figures import Floors, wilson
from evaluation.settings import REPO, EvaluationSettings, corpora_dir


def test_the_interval_holds_the_share_and_narrows_as_the_set_grows():
    for successes, trials in ((35, 46), (1, 12), (0, 10), (10, 10)):
        low, high = wilson(successes, trials)
        assert 0.0 <= low <= successes / trials <= high <= 1.0
    small, large = wilson(3, 4), wilson(300, 400)
    assert large[1] - large[0] < small[1] - small[0]
    # A share of 1 over ten trials is not certainty: the interval reaches well below it.
    assert wilson(10, 10)[0] < 0.8
    assert wilson(0, 0) == (0.0, 1.0)


def test_a_figure_under_its_floor_or_a_broken_check_fails_the_evaluation(capsys):
    floors = Floors()
    floors.at_least("recall", 0.80, 0.78)
    floors.holds("ids unique", True)
    assert floors.exit_code() == 0
    floors.at_least("precision", 0.85, 0.86)
    floors.holds("every item read twice", False)
    assert floors.exit_code() == 1
    assert "UNDER  precision" in capsys.readouterr().out


def test_a_smoke_run_prints_the_failures_but_exits_zero():
    floors = Floors(enforce=False)
    floors.at_least("recall", 0.1, 0.9)
    assert floors.failed and floors.exit_code() == 0


def test_the_corpora_sit_beside_the_repository_unless_news_corpora_dir_says(monkeypatch, tmp_path):
    monkeypatch.delenv("NEWS_CORPORA_DIR", raising=False)
    assert EvaluationSettings().corpora_dir == REPO.parent / "shared" / "data"
    monkeypatch.setenv("NEWS_CORPORA_DIR", str(tmp_path))
    assert corpora_dir() == tmp_path.resolve()
    # NEWS_DATA_DIR is the workers' state, not the corpora
    monkeypatch.setenv("NEWS_DATA_DIR", "/elsewhere")
    assert corpora_dir() == tmp_path.resolve()
    assert REPO == Path(__file__).resolve().parents[2]
