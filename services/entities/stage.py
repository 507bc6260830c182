"""entities' stage: consumes news.unique-article.v1, produces news.enriched-article.v1, dead-letters news.entities.dlq."""

from services.entities.settings import EntitiesSettings
from shared.stage import Batching, Metric, Stage
from shared.topics import ENRICHED_ARTICLES, UNIQUE_ARTICLES


def batching(settings: EntitiesSettings) -> Batching:
    """The worker's batches, from the settings (spaCy's ``nlp.pipe`` is faster over many texts)."""
    return Batching(
        size=settings.entities_batch_size,
        within_s=settings.entities_batch_within_s,
        max_bytes=settings.entities_batch_max_bytes,
        budget_s=settings.entities_batch_budget_s,
    )


STAGE = Stage(
    "entities",
    UNIQUE_ARTICLES,
    (ENRICHED_ARTICLES,),
    EntitiesSettings,
    build="services.entities.handler:build",
    metrics=(Metric("entities", "Entities extracted, by label.", ("label",)),),
    batching=batching,
)
