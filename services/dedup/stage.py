"""dedup's stage: consumes news.clean-article.v1, produces news.unique-article.v1 or news.duplicate-notice.v1, dead-letters news.dedup.dlq."""

from services.dedup.settings import DedupSettings
from shared.stage import Metric, Stage
from shared.topics import CLEAN_ARTICLES, DUPLICATES, UNIQUE_ARTICLES

# Stateful (the index), so it runs inline: its work is linear in the text, which clean bounds.
STAGE = Stage(
    "dedup",
    CLEAN_ARTICLES,
    (UNIQUE_ARTICLES, DUPLICATES),
    DedupSettings,
    build="services.dedup.handler:build",
    metrics=(
        Metric("duplicates", "Articles dropped as duplicates, by kind.", ("kind",)),
        Metric("dedup_evicted", "Index entries evicted for leaving the time window."),
    ),
    table="index",
    isolated=False,
)
