"""entities' stage under the worker's agent loop (fake topics, no broker): its build from settings, enriched articles, dead letters, counters.

The worker hands this stage batches (``Stage.batching``); that path, over faust's own
``take_events``, is tested in tests/shared/test_batch.py. Here each message goes alone, as in
``newswatch process`` and the worker's fallback.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from services.entities.stage import STAGE
from shared.schemas import DeadLetter, EnrichedArticle
from shared.topics import DEAD_LETTERS, ENRICHED_ARTICLES, UNIQUE_ARTICLES
from tests.factories import run_stage

EXAMPLE = (
    Path(__file__).resolve().parents[3]
    / "seeds"
    / UNIQUE_ARTICLES.name
    / "bloomberg-russia-deployment.json"
)

pytestmark = pytest.mark.slow  # the stage loads the real spaCy model


def test_a_unique_article_is_published_enriched_with_countries_and_domain_entities():
    run = run_stage(STAGE, [EXAMPLE.read_bytes()])
    [out] = [EnrichedArticle.model_validate_json(v) for v in run.sent(ENRICHED_ARTICLES.name)]
    by_text = {e.text: e for e in out.entities}
    assert by_text["Venezuela"].country == "VE" and by_text["Russia"].country == "RU"
    assert {e.label for e in out.entities} >= {"GPE", "NORP", "AIRCRAFT"}
    gpe = sum(e.label == "GPE" for e in out.entities)
    assert run.sample("news_entities_total", service="entities", label="GPE") == gpe


def test_a_message_that_is_not_a_unique_article_is_dead_lettered_and_the_next_one_enriched():
    run = run_stage(STAGE, [b"not json", EXAMPLE.read_bytes()])
    letters = [DeadLetter.model_validate_json(v) for v in run.sent(DEAD_LETTERS["entities"].name)]
    assert [(d.reason, d.original) for d in letters] == [("invalid_json", b"not json")]
    assert len(run.sent(ENRICHED_ARTICLES.name)) == 1
