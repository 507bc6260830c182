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
        default=0.5,
        gt=0,
        lt=1,
        description="An article joins the open story likeliest to be its own when that likelihood "
        "(a logistic model of the embedding cosine, the terms cosine and the shared names: "
        "NEWS_STORIES_WEIGHTS) reaches this; else it opens a story. Higher: more, tighter stories.",
    )
    stories_weights: tuple[float, float, float, float] = Field(
        default=(-4.2, 5.75, 4.3, 3.57),
        description="The logistic model of an article (title and lead) against an open story: "
        "intercept, then the weights of the cosine of their embeddings, of their TF-IDF terms and "
        "of the share of the article's names the story holds. Learned from the tuning halves of "
        "the labelled sets (evaluation/stories/fit.py). As JSON: [intercept, cosine, terms, names].",
    )
    stories_brief_weights: tuple[float, float, float, float] = Field(
        default=(-3.25, 9.37, 6.18, 0.34),
        description="The same for a brief article (under 25 words past its title, as a "
        "headline-only feed item): on headlines the embedding tells more, names less.",
    )
    stories_embed_threads: int = Field(
        default=1,
        ge=1,
        description="Threads of the sentence embedder (onnxruntime): one title and lead per article.",
    )
    stories_embed_quantized: bool = Field(
        default=True,
        description="Embed with the int8 model (per-channel dynamic quantization of the packaged "
        "one, built at start): about half the stage's embedding time, vectors at cosine 0.994 "
        "of the float model's. false: the float model.",
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
