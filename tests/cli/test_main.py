"""The `newswatch` CLI without Kafka: input reading, and `process` over the seeds with the real model."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cli.inputs import read_inputs
from cli.main import build_parser
from shared.schemas import (
    Alert,
    CleanArticle,
    DeadLetter,
    DuplicateNotice,
    EnrichedArticle,
    EventAlert,
    EventMention,
    StoriedArticle,
    StoryRecord,
    UniqueArticle,
)

REPO = Path(__file__).resolve().parents[2]
SEEDS = sorted((REPO / "seeds").glob("*.txt"))
MODELS = {
    "clean": CleanArticle,
    "unique": UniqueArticle,
    "duplicate": DuplicateNotice,
    "enriched": EnrichedArticle,
    "storied": StoriedArticle,
    "story": StoryRecord,
    "alert": Alert,
    "event": EventAlert,
    "mention": EventMention,
    "dead_letter": DeadLetter,
}


def test_read_inputs_takes_each_format_as_the_input_topic_expects(tmp_path):
    (tmp_path / "a.txt").write_text("Plain text article.")
    (tmp_path / "b.html").write_text("<html><body><p>Hi</p></body></html>")
    (tmp_path / "c.json").write_text('{"text": "one object"}')
    (tmp_path / "d.jsonl").write_text('{"text": "one"}\n\n{"text": "two"}\n')
    (tmp_path / "ignored.png").write_bytes(b"\x89PNG")
    (tmp_path / "news.clean-article.v1").mkdir()  # example payloads of other topics: not inputs
    (tmp_path / "news.clean-article.v1" / "x.json").write_text('{"article_id": "a"}')
    got = dict(read_inputs([str(tmp_path)]))
    assert got[str(tmp_path / "a.txt")] == b"Plain text article."
    assert json.loads(got[str(tmp_path / "b.html")]) == {
        "html": "<html><body><p>Hi</p></body></html>"
    }
    assert got[str(tmp_path / "c.json")] == b'{"text": "one object"}'
    assert [got[f"{tmp_path / 'd.jsonl'}:1"], got[f"{tmp_path / 'd.jsonl'}:3"]] == [
        b'{"text": "one"}',
        b'{"text": "two"}',
    ]
    assert len(got) == 5


def test_stdin_of_json_lines_is_one_message_a_line_and_other_text_is_one_article(monkeypatch):
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO(b'{"text": "a"}\n{"text": "b"}\n'))
    )
    assert [v for _, v in read_inputs(["-"])] == [b'{"text": "a"}', b'{"text": "b"}']
    monkeypatch.setattr(
        sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Troops arrived.\nMore text.\n"))
    )
    assert [v for _, v in read_inputs(["-"])] == [b"Troops arrived.\nMore text.\n"]


def test_a_missing_path_is_a_clear_error():
    with pytest.raises(SystemExit, match="no such file or folder"):
        list(read_inputs(["/nonexistent/article.txt"]))


def test_broker_options_are_passed_on_to_the_broker():
    from cli.broker import cmd_broker
    from cli.main import parse_args

    args = parse_args(["broker", "--port", "29092"])  # exited 2 (unrecognized arguments) before
    assert (args.func, args.broker_args) == (cmd_broker, ["--port", "29092"])
    assert parse_args(["broker", "--data-dir", "/tmp/k", "--fresh"]).broker_args == [
        "--data-dir",
        "/tmp/k",
        "--fresh",
    ]
    assert parse_args(["broker"]).broker_args == []
    with pytest.raises(
        SystemExit
    ) as exit_info:  # other commands still refuse what they do not know
        parse_args(["alerts", "--port", "29092"])
    assert exit_info.value.code == 2


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("entitis=2", "'entitis=2': no service 'entitis' (one of clean, dedup, entities,"),
        ("entities=0", "'entities=0': a service runs at least 1 worker"),
        ("entities", "'entities' is not SERVICE=N (e.g. entities=2)"),
    ],
)
def test_run_refuses_workers_of_an_unknown_service_or_fewer_than_one(value, says, capsys):
    from cli.main import parse_args

    with pytest.raises(SystemExit) as exit_info:
        parse_args(["run", "--workers", value])
    assert exit_info.value.code == 2
    assert f"newswatch run: error: argument --workers: {says}" in capsys.readouterr().err


def test_run_takes_workers_per_service_repeated():
    from cli.main import parse_args

    args = parse_args(["run", "--workers", "entities=2", "--workers=alerts=2"])
    assert args.workers == [("entities", 2), ("alerts", 2)]
    assert parse_args(["run"]).workers is None  # then NEWS_RUN_WORKERS, else 1 each


def test_alerts_options_parse():
    args = build_parser().parse_args(["alerts", "--follow", "--from-beginning", "--json"])
    assert (args.follow, args.from_beginning, args.json) == (True, True, True)


@pytest.fixture(scope="module")
def processed() -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "cli.main", "process", *map(str, SEEDS)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


@pytest.mark.slow
def test_process_prints_the_public_record_contract(processed):
    assert processed
    for record in processed:
        assert set(record) == {"topic", "kind", "value"}
        MODELS[record["kind"]].model_validate(record["value"])  # each value is its kind's model
        assert record["topic"].startswith("news.")
    kinds = {r["kind"] for r in processed}
    kinds_expected = {"clean", "unique", "duplicate", "enriched", "storied", "story", "alert"}
    assert kinds_expected | {"event", "mention"} <= kinds
    clean = [r["value"] for r in processed if r["kind"] == "clean"]
    assert all(c["text"] for c in clean) and any(c["title"] for c in clean)
    entity = next(e for r in processed if r["kind"] == "enriched" for e in r["value"]["entities"])
    assert {"text", "label", "start", "end", "sentence"} <= set(entity)


@pytest.mark.slow
def test_process_puts_the_seeds_in_one_story_and_alerts_carry_it(processed):
    stories = [r["value"] for r in processed if r["kind"] == "story"]
    unique = [r for r in processed if r["kind"] == "unique"]
    assert len(stories) == len(unique) >= 5  # every unique article is placed
    assert [s["status"] for s in stories].count("new") == 1  # the seeds tell one story
    (story_id,) = {s["story_id"] for s in stories}
    assert stories[-1]["size"] == len(stories)
    alerts = [r["value"] for r in processed if r["kind"] == "alert"]
    assert alerts and all(a["story_id"] == story_id for a in alerts)


@pytest.mark.slow
def test_process_on_the_seeds_prints_troop_movement_alerts_none_repeating_evidence(processed):
    alerts = [
        r["value"]
        for r in processed
        if r["kind"] == "alert" and r["value"]["rule_id"] == "troop_movement"
    ]
    assert alerts
    evidence = [re.sub(r"\W+", " ", a["evidence"]).strip().lower() for a in alerts]
    assert len(evidence) == len(set(evidence))
    duplicates = {r["value"]["article_id"] for r in processed if r["kind"] == "duplicate"}
    assert len(duplicates) == 3  # the dump's second copies of the Reuters, Guardian and Vox stories
    assert not duplicates & {a["article_id"] for a in alerts}


@pytest.mark.slow
def test_process_folds_the_seeds_alerts_into_few_events_one_for_the_caracas_arrival(processed):
    """Issue 11's done-when: at most three new events, the arrival one event, every alert one event record."""
    alerts = [r["value"] for r in processed if r["kind"] == "alert"]
    records = [r for r in processed if r["kind"] in ("event", "mention")]
    assert sorted(r["value"]["alert_id"] for r in records) == sorted(a["alert_id"] for a in alerts)
    assert all((r["kind"] == "mention") == (r["value"]["status"] == "mention") for r in records)
    assert {r["topic"] for r in records} == {"news.event-alert.v1", "news.event-mention.v1"}
    new = [r["value"] for r in records if r["value"]["status"] == "new"]
    assert 1 <= len(new) <= 3
    arrival = {
        r["value"]["event_id"]
        for r in records
        if r["value"]["event_key"] == "troop_movement|in|RU|VE"
    }
    assert len(arrival) == 1
    updates = [
        r["value"]
        for r in records
        if r["value"]["event_id"] in arrival and r["value"]["status"] == "update"
    ]
    assert updates and all(u["added"] for u in updates)  # an update names the facts it added
    final = max(
        (r["value"] for r in records if r["value"]["event_id"] in arrival),
        key=lambda v: v["reports"],
    )
    assert final["frame"]["actor"]["country"] == "RU" and final["frame"]["place"]["country"] == "VE"
    assert final["frame"]["count"] == 100 and {"Il-62", "An-124"} <= set(
        final["frame"]["equipment"]
    )


def test_process_until_dedup_stops_after_dedup_and_needs_no_model():
    out = subprocess.run(
        [sys.executable, "-m", "cli.main", "process", "--until", "dedup", str(SEEDS[4])],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    kinds = [json.loads(line)["kind"] for line in out.stdout.splitlines()]
    assert (
        kinds.count("clean") == 6 and kinds.count("duplicate") == 3 and kinds.count("unique") == 3
    )
    assert not {"enriched", "alert"} & set(kinds)
    assert "spacy" not in out.stderr.lower()


def test_html_files_are_decoded_by_their_declared_charset(tmp_path):
    page = '<html><head><meta charset="windows-1252"></head><body><p>Caf\u00e9 \u201cquotes\u201d</p></body></html>'
    (tmp_path / "p.html").write_bytes(page.encode("cp1252"))
    [(_, value)] = list(read_inputs([str(tmp_path / "p.html")]))
    assert "Caf\u00e9 \u201cquotes\u201d" in json.loads(value)["html"]
