"""clean: consumes news.raw-article.v1, produces news.clean-article.v1, dead-letters news.clean.dlq."""

from datetime import UTC, datetime

from services.clean import core
from services.clean.settings import CleanSettings
from shared.kafka import Step, declare, make_app, run_worker
from shared.metrics import ServiceMetrics
from shared.schemas import Message
from shared.topics import CLEAN_ARTICLES, RAW_ARTICLES

SERVICE = "clean"
settings = CleanSettings()
app = make_app(SERVICE, settings)
metrics = ServiceMetrics(SERVICE)
detector = core.build_language_detector()  # built once: lingua's models take a while to load


def handle(value: bytes) -> list[Message]:
    """Raw bytes (JSON object or plain text) → one clean article per story."""
    raw = core.decode_raw(value, max_bytes=settings.clean_max_bytes)
    return list(core.clean_article(raw, ingested_at=datetime.now(UTC), detector=detector))


step = Step(app, SERVICE, handle, [CLEAN_ARTICLES], metrics, offload=True)


@app.agent(declare(app, RAW_ARTICLES))
async def clean(stream):
    """Clean every raw article; dead-letter what cannot be read."""
    await step(stream)


if __name__ == "__main__":
    run_worker(app, SERVICE, settings, [RAW_ARTICLES, CLEAN_ARTICLES])
