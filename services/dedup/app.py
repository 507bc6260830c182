"""dedup: consumes news.clean-article.v1, produces news.unique-article.v1 and news.duplicate-notice.v1, dead-letters news.dedup.dlq."""

import time
from datetime import UTC, datetime, timedelta

from services.dedup import core
from services.dedup.settings import DedupSettings
from shared.kafka import Step, declare, make_app, run_worker
from shared.metrics import ServiceMetrics
from shared.schemas import CleanArticle, DuplicateNotice, Message
from shared.topics import CLEAN_ARTICLES, DUPLICATES, UNIQUE_ARTICLES

SERVICE = "dedup"
settings = DedupSettings()
app = make_app(SERVICE, settings)
metrics = ServiceMetrics(SERVICE)
duplicates = metrics.counter("duplicates", "Articles dropped as duplicates, by kind.", ("kind",))
evicted = metrics.counter("dedup_evicted", "Index entries evicted for leaving the time window.")

# The index lives in a faust Table backed by the changelog topic dedup-index-changelog, so a
# restarted or moved worker rebuilds it before consuming. One partition, like its source topic.
# Untyped keys and values: faust serialises both as JSON.
index = app.Table("index", partitions=CLEAN_ARTICLES.partitions)
deduplicator = core.Deduplicator(index, window=timedelta(days=settings.dedup_window_days))
last_eviction = time.monotonic()


def handle(value: bytes) -> list[Message]:
    """A clean article → a unique article with sentence novelty, or a duplicate notice."""
    global last_eviction
    article = CleanArticle.model_validate_json(value)
    # The article's own ingest time, not the clock: a replayed message gets the same decision.
    result = deduplicator.process(article, now=article.ingested_at)
    if isinstance(result, DuplicateNotice):
        duplicates.labels(SERVICE, result.kind).inc()
    # Eviction writes the table, which faust only allows inside stream iteration, hence here.
    if time.monotonic() - last_eviction > settings.dedup_evict_every_s:
        evicted.labels(SERVICE).inc(deduplicator.evict(datetime.now(UTC)))
        last_eviction = time.monotonic()
    return [result]


step = Step(app, SERVICE, handle, [UNIQUE_ARTICLES, DUPLICATES], metrics)


@app.agent(declare(app, CLEAN_ARTICLES))
async def dedup(stream):
    """Drop duplicates; mark sentences already seen."""
    await step(stream)


if __name__ == "__main__":
    run_worker(app, SERVICE, settings, [CLEAN_ARTICLES, UNIQUE_ARTICLES, DUPLICATES])
