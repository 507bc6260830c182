"""alerts: consumes news.enriched-article.v1 and news.alert.v1, produces news.alert.v1, news.event-alert.v1 and news.event-mention.v1, dead-letters news.alerts.dlq."""

from services.alerts.stage import EVENTS, STAGE
from shared.kafka import build_worker, run_worker

settings = STAGE.settings()
app = build_worker(STAGE, "services.alerts.stage:STAGE", settings, (EVENTS, "services.alerts.stage:EVENTS"))

if __name__ == "__main__":
    run_worker(app, STAGE.service, settings, [*STAGE.topics, *EVENTS.topics])
