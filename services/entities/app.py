"""entities: consumes news.unique-article.v1, produces news.enriched-article.v1, dead-letters news.entities.dlq."""

from services.entities.stage import STAGE
from shared.kafka import build_worker, run_worker

settings = STAGE.settings()
app = build_worker(STAGE, "services.entities.stage:STAGE", settings)

if __name__ == "__main__":
    run_worker(app, STAGE.service, settings, STAGE.topics)
