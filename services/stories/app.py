"""stories: consumes news.enriched-article.v1, produces news.storied-article.v1 and news.story-record.v1, dead-letters news.stories.dlq."""

from services.stages import stages_of
from shared.worker.app import build_worker
from shared.worker.main import run_worker

stages = stages_of("stories")
settings = stages[0].settings()
app = build_worker(stages, settings)

if __name__ == "__main__":
    run_worker(app, stages, settings)
