"""clean's stage under the worker's agent loop (fake topics, no broker): what it publishes, dead-letters and counts."""

from __future__ import annotations

import json
from pathlib import Path

from services.clean.stage import STAGE
from shared.schemas import CleanArticle, DeadLetter
from shared.topics import CLEAN_ARTICLES, DEAD_LETTERS, RAW_ARTICLES
from tests.factories import run_stage

EXAMPLES = Path(__file__).resolve().parents[3] / "seeds" / RAW_ARTICLES.name


def test_raw_articles_become_clean_articles_keyed_by_their_id():
    values = [p.read_bytes() for p in sorted(EXAMPLES.glob("*.json"))]
    run = run_stage(STAGE, values)
    out = [CleanArticle.model_validate_json(v) for v in run.sent(CLEAN_ARTICLES.name)]
    assert [a.article_id for a in out] == [json.loads(v)["id"] for v in values]
    assert [key for key, _ in run.topics[CLEAN_ARTICLES.name].sent] == [
        a.article_id.encode() for a in out
    ]
    assert all(a.text and a.word_count > 10 for a in out)
    assert run.sent(DEAD_LETTERS["clean"].name) == []
    assert (
        run.sample("news_messages_produced_total", service="clean", topic=CLEAN_ARTICLES.name) == 2
    )


def test_unusable_inputs_are_dead_lettered_with_their_reason_and_bytes_and_the_stream_goes_on():
    good = (EXAMPLES / "json-text.json").read_bytes()
    bad = [
        b"",
        b"\xff\xfe not UTF-8",
        b"ELF\x00\x01\x02" + b"\x00" * 10,
        b'{"id": "x"}',
        b"[1, 2]",
        b'{"text": "   "}',
    ]
    run = run_stage(STAGE, [*bad, good])
    letters = [DeadLetter.model_validate_json(v) for v in run.sent(DEAD_LETTERS["clean"].name)]
    assert [d.original for d in letters] == bad
    assert [d.offset for d in letters] == [0, 1, 2, 3, 4, 5]
    assert [d.reason for d in letters] == [
        "empty",
        "not_utf8",
        "binary",
        "invalid_schema",
        "not_an_object",
        "empty_after_cleaning",
    ]
    assert len(run.sent(CLEAN_ARTICLES.name)) == 1  # the good one after them
    assert run.sample("news_dead_letters_total", service="clean", reason="binary") == 1
    assert run.sample("news_messages_consumed_total", service="clean", topic=RAW_ARTICLES.name) == 7
