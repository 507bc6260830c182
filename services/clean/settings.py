"""clean's settings: the shared NEWS_* set plus the input and text size limits."""

from pydantic import Field

from shared.settings import ServiceSettings


class CleanSettings(ServiceSettings):
    """Settings of the clean service."""

    # Larger inputs are dead-lettered as oversize (HTML pages carry much markup: bytes, not text).
    clean_max_bytes: int = Field(default=2_000_000, ge=1)
    # A story with more clean text is dead-lettered as too_long: dedup's sentence split and
    # spaCy take time in proportion to the text, and this keeps every stage under 2 s a message
    # on a 2-core machine (README, "Bad input"). About 80,000 words: far beyond any news article.
    clean_max_text_chars: int = Field(default=500_000, ge=1)
    # Plain text with more non-blank lines, or a page with more tags, is dead-lettered as too_long:
    # every line costs the boilerplate classifier a fixed ~0.1 ms and every element costs
    # trafilatura about as much, so these keep clean under 2 s a message. A long news article
    # has a few hundred lines; the heaviest page of the extraction benchmark 3,229 tags.
    clean_max_lines: int = Field(default=5_000, ge=1)
    clean_max_html_tags: int = Field(default=10_000, ge=1)
