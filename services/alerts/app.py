"""alerts: consumes news.enriched-article.v1 and news.alert.v1, produces news.alert.v1, news.event-alert.v1 and news.event-mention.v1, dead-letters news.alerts.dlq."""

from services.stages import stages_of
from shared.worker.app import build_worker
from shared.worker.main import run_worker

stages = stages_of("alerts")
settings = stages[0].settings()
app = build_worker(stages, settings)

if __name__ == "__main__":
    run_worker(app, stages, settings)
