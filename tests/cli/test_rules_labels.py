"""``newswatch rules test --labels``: precision and recall with intervals, misses and false alarms listed (slow: the real model)."""

from __future__ import annotations

import argparse
import csv
import io

import pytest

from cli.rules import add_parser
from cli.rules_labels import Scored, read_labels, score_labels, share

MOVE = "Russia sent about 100 troops to Venezuela on Saturday, officials said."
DENIED = "The ministry said Russia was not sending a military contingent to Venezuela."
BUSINESS = "The sale of the US gaming unit will leave the company with its UK business."
MISSED = "The regiment is due home from Basra by Christmas, the defence ministry said."


def run(*argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="newswatch")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["rules", "test", *argv])
    out, err = io.StringIO(), io.StringIO()
    return args.func(args, stdout=out, stderr=err), out.getvalue(), err.getvalue()


def write_labels(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


def test_scoring_counts_each_verdict_and_keeps_the_errors():
    pairs = [("a", True), ("b", True), ("c", False), ("d", False)]
    scored = score_labels(pairs, "r", lambda text: {"r"} if text in ("a", "c") else set())
    assert (scored.tp, scored.fn, scored.fp, scored.tn) == (1, 1, 1, 1)
    assert scored.misses == ["b"] and scored.false_alarms == ["c"]
    assert share(1, 2).startswith("0.500 [0.09, 0.91]") and share(0, 0) == "n/a"
    assert isinstance(scored, Scored)


def test_labels_without_the_columns_or_rows_are_refused(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("sentence,y\nx,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="text and label"):
        read_labels(bad)
    empty = write_labels(tmp_path / "empty.csv", [("x", "?")])
    with pytest.raises(ValueError, match="no row"):
        read_labels(empty)
    code, _, err = run("--labels", str(empty))
    assert code == 2 and "no row" in err


def test_a_rules_test_needs_articles_or_labels():
    code, _, err = run()
    assert code == 2 and "--labels" in err


@pytest.mark.slow
def test_the_shipped_troop_rule_is_scored_on_labels_with_its_errors_listed(tmp_path):
    labels = write_labels(
        tmp_path / "labels.csv", [(MOVE, 1), (MISSED, 1), (DENIED, 0), (BUSINESS, 0), ("x", "?")]
    )
    code, out, err = run("--labels", str(labels), "--rule", "troop_movement")
    assert code == 0, err
    assert "troop_movement on" in out and "2 should fire, 2 should not" in out
    assert "precision 1.000" in out and "recall    0.500 [" in out
    misses = out.split("misses (1):")[1].split("false alarms")[0]
    assert "Basra" in misses and "false alarms (0):" in out
    code, _, err = run("--labels", str(labels))
    assert code == 2 and "--rule" in err  # the shipped file has two rules
