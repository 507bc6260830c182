"""clean's settings: the shared NEWS_* set plus the input and text size limits."""

from pydantic import Field

from shared.settings import ServiceSettings


class CleanSettings(ServiceSettings):
    """Settings of the clean service."""

    # HTML pages carry much markup: the limit is in bytes, not text.
    clean_max_bytes: int = Field(
        default=2_000_000, ge=1, description="Larger inputs are dead-lettered as oversize."
    )
    # dedup's sentence split and spaCy take time in proportion to the text: this keeps every stage
    # under 2 s a message on a 2-core machine (docs/bad-input.md).
    clean_max_text_chars: int = Field(
        default=500_000,
        ge=1,
        description="A story with more characters of clean text is dead-lettered as too_long "
        "(about 80,000 words: far beyond any news article).",
    )
    # Every line costs the boilerplate classifier a fixed ~0.1 ms and every element costs
    # trafilatura about as much, so these keep clean under 2 s a message.
    clean_max_lines: int = Field(
        default=5_000,
        ge=1,
        description="Plain text with more non-blank lines is dead-lettered as too_long (a long "
        "news article has a few hundred).",
    )
    clean_max_html_tags: int = Field(
        default=10_000,
        ge=1,
        description="A page with more tags is dead-lettered as too_long (the heaviest page of the "
        "extraction benchmark has 3,229).",
    )
