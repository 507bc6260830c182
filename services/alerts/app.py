"""alerts: consumes news.enriched-article.v1, produces news.alert.v1, dead-letters news.alerts.dlq."""

from datetime import UTC, datetime
from pathlib import Path

from services.alerts import core
from services.alerts.settings import AlertsSettings
from shared.kafka import Step, declare, make_app, run_worker
from shared.metrics import ServiceMetrics
from shared.schemas import EnrichedArticle, Message
from shared.topics import ALERTS, ENRICHED_ARTICLES

SERVICE = "alerts"
settings = AlertsSettings()
app = make_app(SERVICE, settings)
metrics = ServiceMetrics(SERVICE)
fired = metrics.counter("alerts_fired", "Alerts fired, by rule.", ("rule",))
rules = core.load_rules(Path(settings.alerts_rules) if settings.alerts_rules else None)


def handle(value: bytes) -> list[Message]:
    """An enriched article → one alert per rule and sentence that matched."""
    alerts = core.evaluate(EnrichedArticle.model_validate_json(value), rules, fired_at=datetime.now(UTC))
    for alert in alerts:
        fired.labels(SERVICE, alert.rule_id).inc()
    return list(alerts)


step = Step(app, SERVICE, handle, [ALERTS], metrics)


@app.agent(declare(app, ENRICHED_ARTICLES))
async def alerts(stream):
    """Evaluate the declarative rules on each enriched article."""
    await step(stream)


if __name__ == "__main__":
    run_worker(app, SERVICE, settings, [ENRICHED_ARTICLES, ALERTS])
