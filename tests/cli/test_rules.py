"""``newswatch rules test``: matches as JSON lines with their frame, a readable summary, an invalid rules file refused (slow: the real model)."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import pytest
import yaml

from cli.rules import add_parser, cmd_rules_test

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def run(*argv: str) -> tuple[int, list[dict], str]:
    parser = argparse.ArgumentParser(prog="newswatch")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["rules", "test", *argv])
    out, err = io.StringIO(), io.StringIO()
    code = args.func(args, stdout=out, stderr=err)
    return code, [json.loads(line) for line in out.getvalue().splitlines()], err.getvalue()


def test_rules_test_on_the_seeds_folder_prints_matches_with_frames(tmp_path):
    code, matches, summary = run(str(REPO / "seeds"))
    assert code == 0 and matches
    assert {m["rule_id"] for m in matches} == {"troop_movement"}
    assert all({"article_id", "rule_id", "evidence", "frame"} <= set(m) for m in matches)
    caracas = [m for m in matches if "An-124 military cargo plane carrying troops" in m["evidence"]]
    assert caracas and caracas[0]["frame"]["action"] == "arrive"
    assert (
        "Il-62" in caracas[0]["frame"]["equipment"] and "An-124" in caracas[0]["frame"]["equipment"]
    )
    assert not any("not sending a military contingent" in m["evidence"] for m in matches)
    assert "rules test: " in summary and f"{len(matches)} match(es)" in summary
    assert "An-124" in summary  # the readable line of the Caracas match


def test_rules_test_reads_a_rules_file_and_refuses_an_invalid_one(tmp_path):
    article = tmp_path / "a.json"
    article.write_text(
        json.dumps({"id": "t1", "title": "Frigates sail", "text": "Two warships sailed into port."})
    )
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        yaml.safe_dump(
            {
                "rules": [
                    {
                        "id": "ships",
                        "patterns": {"ship": [[{"LEMMA": "warship"}]]},
                        "conditions": [{"tokens": "ship"}],
                    }
                ]
            }
        )
    )
    code, matches, _ = run("--rules", str(rules), str(article))
    assert code == 0 and [(m["article_id"], m["rule_id"]) for m in matches] == [("t1", "ships")]

    rules.write_text(
        yaml.safe_dump({"rules": [{"id": "ships", "conditions": [{"tokens": "ship"}]}]})
    )
    code, matches, summary = run("--rules", str(rules), str(article))
    assert code == 2 and matches == []
    assert str(rules) in summary and "rule ships" in summary


def test_add_parser_registers_rules_test():
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["rules", "test", "--rules", "r.yaml", "a", "b"])
    assert (args.rules, args.paths, args.func) == ("r.yaml", ["a", "b"], cmd_rules_test)
