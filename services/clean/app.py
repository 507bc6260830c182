"""clean: consumes news.raw-article.v1, produces news.clean-article.v1, dead-letters news.clean.dlq."""

from services.clean.stage import STAGE
from shared.kafka import build_worker, run_worker

settings = STAGE.settings()
app = build_worker(STAGE, "services.clean.stage:STAGE", settings)

if __name__ == "__main__":
    run_worker(app, STAGE.service, settings, STAGE.topics)
