"""clean's stage: consumes news.raw-article.v1, produces news.clean-article.v1 (one per story), dead-letters news.clean.dlq."""

from services.clean.settings import CleanSettings
from shared.stage import Stage
from shared.topics import CLEAN_ARTICLES, RAW_ARTICLES

STAGE = Stage(
    "clean", RAW_ARTICLES, (CLEAN_ARTICLES,), CleanSettings, build="services.clean.handler:build"
)
