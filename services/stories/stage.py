"""stories' stage: consumes news.enriched-article.v1, produces news.storied-article.v1 and news.story-record.v1, dead-letters news.stories.dlq."""

from services.stories.settings import StoriesSettings
from shared.stage import Metric, Stage
from shared.topics import ENRICHED_ARTICLES, STORIED_ARTICLES, STORY_RECORDS

# Stateful (the open stories), so it runs inline: one embedding and one pass over the open
# stories' centroids per article.
STAGE = Stage(
    "stories",
    ENRICHED_ARTICLES,
    (STORIED_ARTICLES, STORY_RECORDS),
    StoriesSettings,
    build="services.stories.handler:build",
    metrics=(
        Metric("stories", "Articles by what they did to a story (new, joined).", ("status",)),
        Metric("stories_evicted", "Stories that left the store, their window over (article time)."),
    ),
    table="stories",
    isolated=False,
)
