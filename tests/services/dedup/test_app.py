"""dedup's stage under the worker's agent loop (fake topics, a dict for its Table, no broker)."""

from __future__ import annotations

from pathlib import Path

from services.dedup.stage import STAGE
from shared.schemas import CleanArticle, DeadLetter, DuplicateNotice, UniqueArticle
from shared.topics import CLEAN_ARTICLES, DEAD_LETTERS, DUPLICATES, UNIQUE_ARTICLES
from tests.factories import run_stage

EXAMPLE = (
    Path(__file__).resolve().parents[3]
    / "seeds"
    / CLEAN_ARTICLES.name
    / "bloomberg-russia-deployment.json"
)


def test_a_repost_goes_to_the_duplicates_topic_and_the_original_to_unique_articles():
    original = CleanArticle.model_validate_json(EXAMPLE.read_bytes())
    repost = original.model_copy(update={"article_id": "repost-1", "url": None})
    run = run_stage(STAGE, [original.to_bytes(), repost.to_bytes()])
    unique = [UniqueArticle.model_validate_json(v) for v in run.sent(UNIQUE_ARTICLES.name)]
    notices = [DuplicateNotice.model_validate_json(v) for v in run.sent(DUPLICATES.name)]
    assert [a.article_id for a in unique] == [original.article_id]
    assert unique[0].sentences and not any(s.seen for s in unique[0].sentences)
    assert [(n.article_id, n.duplicate_of, n.kind) for n in notices] == [
        ("repost-1", original.article_id, "exact")
    ]
    assert run.sample("news_duplicates_total", service="dedup", kind="exact") == 1


def test_the_index_lives_in_the_table_so_a_restarted_worker_republishes_the_same_verdict():
    table: dict[str, object] = {}
    value = EXAMPLE.read_bytes()
    first = run_stage(STAGE, [value], store=table)
    assert table  # the index was written to the store the worker's Table backs
    replay = run_stage(STAGE, [value], store=table)  # a new worker on the same changelog
    assert replay.sent(UNIQUE_ARTICLES.name) == first.sent(UNIQUE_ARTICLES.name)
    assert replay.sent(DUPLICATES.name) == []


def test_a_message_that_is_not_a_clean_article_is_dead_lettered_and_the_next_one_processed():
    run = run_stage(STAGE, [b'{"article_id": "no text"}', EXAMPLE.read_bytes()])
    letters = [DeadLetter.model_validate_json(v) for v in run.sent(DEAD_LETTERS["dedup"].name)]
    assert [(d.reason, d.original) for d in letters] == [
        ("invalid_schema", b'{"article_id": "no text"}')
    ]
    assert len(run.sent(UNIQUE_ARTICLES.name)) == 1
