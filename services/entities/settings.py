"""entities' settings: the shared NEWS_* set plus NEWS_ENTITIES_SPACY_MODEL."""

from shared.settings import ServiceSettings


class EntitiesSettings(ServiceSettings):
    """Settings of the entities service."""

    entities_spacy_model: str = "en_core_web_sm"
