"""stories' settings: the shared NEWS_* set plus the story window and how close an article must be to join."""

from datetime import timedelta

from pydantic import Field

from shared.settings import ServiceSettings


class StoriesSettings(ServiceSettings):
    """Settings of the stories service."""

    stories_window_days: float = Field(
        default=3.0,
        gt=0,
        description="A story stays open (later articles may join it) until no article has joined "
        "it for this long in article time (published_at, else ingested_at); then it is evicted.",
    )
    stories_threshold: float = Field(
        default=0.4,
        gt=0,
        description="An article joins the closest open story when its similarity (the cosine of "
        "title-and-lead embeddings to the story's centroid, plus the entity bonus) reaches this; "
        "else it opens a story.",
    )
    stories_entity_weight: float = Field(
        default=0.2,
        ge=0,
        description="The bonus for the names an article shares with a story: this times the share "
        "of the article's names (people, organisations, places) the story holds.",
    )
    stories_embed_threads: int = Field(
        default=1,
        ge=1,
        description="Threads of the sentence embedder (onnxruntime): one title and lead per article.",
    )
    stories_evict_every: int = Field(
        default=500,
        ge=1,
        description="Expired stories and article keys are swept from the store every this many "
        "articles (reads ignore expired stories at once).",
    )

    @property
    def window(self) -> timedelta:
        """``stories_window_days`` as the core takes it."""
        return timedelta(days=self.stories_window_days)
