"""clean: consumes news.raw-article.v1, produces news.clean-article.v1, dead-letters news.clean.dlq."""

from services.stages import stages_of
from shared.worker.app import build_worker
from shared.worker.main import run_worker

stages = stages_of("clean")
settings = stages[0].settings()
app = build_worker(stages, settings)

if __name__ == "__main__":
    run_worker(app, stages, settings)
