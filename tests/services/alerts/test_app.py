"""alerts' stage under the worker's agent loop (fake topics, no broker): its build from settings, alerts with frames, dead letters, counters."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.alerts.stage import STAGE
from shared.schemas import Alert, DeadLetter, EnrichedArticle
from shared.topics import ALERTS, DEAD_LETTERS, ENRICHED_ARTICLES
from tests.factories import run_stage

EXAMPLE = (
    Path(__file__).resolve().parents[3]
    / "seeds"
    / ENRICHED_ARTICLES.name
    / "bloomberg-russia-deployment.json"
)

pytestmark = pytest.mark.slow  # the stage loads the real spaCy model with its parser


def test_an_enriched_article_raises_troop_movement_alerts_keyed_by_rule_and_direction():
    run = run_stage(STAGE, [EXAMPLE.read_bytes()])
    alerts = [Alert.model_validate_json(v) for v in run.sent(ALERTS.name)]
    article = EnrichedArticle.model_validate_json(EXAMPLE.read_bytes())
    assert alerts and {a.rule_id for a in alerts} == {"troop_movement"}
    assert {a.article_id for a in alerts} == {article.article_id}
    # keyed by bucket, so the events stage reads each bucket on one partition
    assert [key for key, _ in run.topics[ALERTS.name].sent] == [
        f"troop_movement|{'out' if a.frame.action in ('withdraw', 'reduce') else 'in'}".encode()
        for a in alerts
    ]
    assert all(a.frame is not None and a.frame.action for a in alerts)
    assert run.sample("news_alerts_fired_total", service="alerts", rule="troop_movement") == len(
        alerts
    )


def test_the_same_article_gives_the_same_alert_ids_on_a_replay():
    first = run_stage(STAGE, [EXAMPLE.read_bytes()])
    again = run_stage(STAGE, [EXAMPLE.read_bytes()])
    ids = [Alert.model_validate_json(v).alert_id for v in first.sent(ALERTS.name)]
    assert ids == [Alert.model_validate_json(v).alert_id for v in again.sent(ALERTS.name)]


def test_a_message_that_is_not_an_enriched_article_is_dead_lettered():
    run = run_stage(STAGE, [b'{"article_id": 3}', EXAMPLE.read_bytes()])
    letters = [DeadLetter.model_validate_json(v) for v in run.sent(DEAD_LETTERS["alerts"].name)]
    assert [(d.reason, d.offset) for d in letters] == [("invalid_schema", 0)]
    assert run.sent(ALERTS.name)
