"""alerts: consumes news.enriched-article.v1, produces news.alert.v1, dead-letters news.alerts.dlq."""

from services.alerts.stage import STAGE
from shared.kafka import build_worker, run_worker

settings = STAGE.settings()
app = build_worker(STAGE, "services.alerts.stage:STAGE", settings)

if __name__ == "__main__":
    run_worker(app, STAGE.service, settings, STAGE.topics)
