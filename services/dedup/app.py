"""dedup: consumes news.clean-article.v1, produces news.unique-article.v1 and news.duplicate-notice.v1, dead-letters news.dedup.dlq."""

from services.stages import stages_of
from shared.worker.app import build_worker
from shared.worker.main import run_worker

stages = stages_of("dedup")
settings = stages[0].settings()
app = build_worker(stages, settings)

if __name__ == "__main__":
    run_worker(app, stages, settings)
