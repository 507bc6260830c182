"""entities: consumes news.unique-article.v1, produces news.enriched-article.v1, dead-letters news.entities.dlq."""

from services.entities import core
from services.entities.settings import EntitiesSettings
from shared.kafka import Step, declare, make_app, run_worker
from shared.metrics import ServiceMetrics
from shared.schemas import Message, UniqueArticle
from shared.topics import ENRICHED_ARTICLES, UNIQUE_ARTICLES

SERVICE = "entities"
settings = EntitiesSettings()
app = make_app(SERVICE, settings)
metrics = ServiceMetrics(SERVICE)
entity_count = metrics.counter("entities", "Entities extracted, by label.", ("label",))
nlp = core.load_nlp(settings.entities_spacy_model)  # loaded once; a missing model stops the worker


def handle(value: bytes) -> list[Message]:
    """A unique article → the same article with its named and domain entities."""
    enriched = core.extract_entities(UniqueArticle.model_validate_json(value), nlp)
    for entity in enriched.entities:
        entity_count.labels(SERVICE, entity.label).inc()
    return [enriched]


step = Step(app, SERVICE, handle, [ENRICHED_ARTICLES], metrics, offload=True)


@app.agent(declare(app, UNIQUE_ARTICLES))
async def entities(stream):
    """Run spaCy and the domain gazetteer over each unique article."""
    await step(stream)


if __name__ == "__main__":
    run_worker(app, SERVICE, settings, [UNIQUE_ARTICLES, ENRICHED_ARTICLES])
