"""alerts' stage: consumes news.enriched-article.v1, produces news.alert.v1, dead-letters news.alerts.dlq."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from services.alerts import core
from services.alerts.settings import AlertsSettings
from shared.metrics import ServiceMetrics
from shared.schemas import Alert, EnrichedArticle, Message
from shared.stage import Handler, Stage
from shared.topics import ALERTS, ENRICHED_ARTICLES


def build(settings: AlertsSettings, store: MutableMapping[str, Any] | None, metrics: ServiceMetrics) -> Handler:
    """The rules are read once, from NEWS_ALERTS_RULES or the shipped rules.yaml."""
    rules = core.load_rules(Path(settings.alerts_rules) if settings.alerts_rules else None)

    def handle(value: bytes) -> list[Message]:
        """An enriched article → one alert per rule and sentence that matched."""
        article = EnrichedArticle.model_validate_json(value)
        return list(core.evaluate(article, rules, fired_at=datetime.now(UTC)))

    return handle


def observe(metrics: ServiceMetrics, outputs: Sequence[Message]) -> None:
    """Alerts fired, by rule."""
    counter = metrics.counter("alerts_fired", "Alerts fired, by rule.", ("rule",))
    for out in outputs:
        if isinstance(out, Alert):
            counter.labels(metrics.service, out.rule_id).inc()


STAGE = Stage("alerts", ENRICHED_ARTICLES, (ALERTS,), AlertsSettings, build, observe=observe)
