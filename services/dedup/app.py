"""dedup: consumes news.clean-article.v1, produces news.unique-article.v1 and news.duplicate-notice.v1, dead-letters news.dedup.dlq."""

from services.dedup.stage import STAGE
from shared.kafka import build_worker, run_worker

settings = STAGE.settings()
app = build_worker(STAGE, "services.dedup.stage:STAGE", settings)

if __name__ == "__main__":
    run_worker(app, STAGE.service, settings, STAGE.topics)
