"""Every topic name, in one place: ``news.<model-in-kebab>.v<major>`` and one ``news.<svc>.dlq`` per service."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.errors import Reject
from shared.schemas import (
    Alert,
    CleanArticle,
    DeadLetter,
    DuplicateNotice,
    EnrichedArticle,
    EventAlert,
    EventMention,
    Message,
    RawArticle,
    StoriedArticle,
    StoryRecord,
    UniqueArticle,
)

SERVICES = ("clean", "dedup", "entities", "stories", "alerts")


# Kafka refuses records over 1 MB by default. The input takes articles up to the clean stage's
# limit (2 MB by default) and beyond, so that an oversize one reaches clean and is dead-lettered
# with its bytes (base64: a third larger) rather than refused at the door with no trace. Every
# internal topic takes the same: from an accepted input (≤ NEWS_CLEAN_MAX_BYTES) a unique article
# is about twice its text (the sentences repeat it) and an enriched one adds its entities, well
# under this; a larger output is dead-lettered as output_too_large before anything is sent
# (shared.worker.loop.Step), never refused silently by the broker.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
# Kafka's own default for a topic without max.message.bytes.
KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1_048_588
# Room for the record batch's own header, the key and the headers within max.message.bytes.
RECORD_OVERHEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class TopicSpec:
    """A topic, the model its values follow, its partition count (None: the default) and its configs."""

    name: str
    model: type[Message]
    partitions: int | None = None
    configs: Mapping[str, str] = field(default_factory=dict)

    @property
    def max_record_bytes(self) -> int:
        """The largest value this topic takes (its max.message.bytes less the batch overhead)."""
        limit = int(self.configs.get("max.message.bytes", KAFKA_DEFAULT_MAX_MESSAGE_BYTES))
        return limit - RECORD_OVERHEAD_BYTES


def topic_name(model: type[Message], version: int = 1) -> str:
    """Derive a topic name from a model name: ``CleanArticle`` → ``news.clean-article.v1``."""
    kebab = re.sub(r"(?<!^)(?=[A-Z])", "-", model.__name__).lower()
    return f"news.{kebab}.v{version}"


def dlq_name(service: str) -> str:
    """The dead-letter topic of one consuming service."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}")
    return f"news.{service}.dlq"


_SIZED = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}
RAW_ARTICLES = TopicSpec(topic_name(RawArticle), RawArticle, configs=_SIZED)
# dedup's index must see every article, so its input has one partition until the index is
# repartitioned by LSH band (docs/scaling.md, "dedup").
CLEAN_ARTICLES = TopicSpec(topic_name(CleanArticle), CleanArticle, partitions=1, configs=_SIZED)
UNIQUE_ARTICLES = TopicSpec(topic_name(UniqueArticle), UniqueArticle, configs=_SIZED)
DUPLICATES = TopicSpec(topic_name(DuplicateNotice), DuplicateNotice, configs=_SIZED)
# The stories stage compares each article with every open story, so its input has one partition,
# like dedup's (docs/scaling.md, "stories"); the entities workers still scale on theirs.
ENRICHED_ARTICLES = TopicSpec(
    topic_name(EnrichedArticle), EnrichedArticle, partitions=1, configs=_SIZED
)
STORIED_ARTICLES = TopicSpec(topic_name(StoriedArticle), StoriedArticle, configs=_SIZED)
# Keyed by story id: a story's records stay in order, and the latest is the story as it stands.
STORY_RECORDS = TopicSpec(topic_name(StoryRecord), StoryRecord)
# Keyed by ``Alert.bucket`` (rule and direction): the events step, in the alerts workers, reads it
# back partitioned so that one worker owns a bucket and its events (docs/events.md).
ALERTS = TopicSpec(topic_name(Alert), Alert, configs=_SIZED)
# Keyed by event id: an event's new, its updates and its mentions stay in order on one partition.
EVENT_ALERTS = TopicSpec(topic_name(EventAlert), EventAlert, configs=_SIZED)
EVENT_MENTIONS = TopicSpec(topic_name(EventMention), EventMention, configs=_SIZED)
# A dead letter holds the largest input in base64 (4/3) plus the error text: twice the input's limit.
DEAD_LETTERS = {
    svc: TopicSpec(
        dlq_name(svc), DeadLetter, configs={"max.message.bytes": str(2 * MAX_MESSAGE_BYTES)}
    )
    for svc in SERVICES
}

TOPICS: list[TopicSpec] = [
    RAW_ARTICLES,
    CLEAN_ARTICLES,
    UNIQUE_ARTICLES,
    DUPLICATES,
    ENRICHED_ARTICLES,
    STORIED_ARTICLES,
    STORY_RECORDS,
    ALERTS,
    EVENT_ALERTS,
    EVENT_MENTIONS,
    *DEAD_LETTERS.values(),
]

_BY_MODEL: dict[type[Message], TopicSpec] = {
    spec.model: spec for spec in TOPICS if spec.model is not DeadLetter
}


def topic_for(message: Message) -> TopicSpec:
    """The topic a message of this model is published to (dead letters go by service instead)."""
    try:
        return _BY_MODEL[type(message)]
    except KeyError:
        raise ValueError(f"no topic publishes {type(message).__name__}") from None


def record_key(message: Message) -> bytes | None:
    """Records are keyed so that a replay lands on the same partition, and what one consumer needs together is together.

    Alerts by their bucket (rule and direction of movement: the events step's partitioning),
    event records by their event, story records by their story, everything else by what identifies it.
    """
    if isinstance(message, Alert):
        key: str | None = message.bucket
    elif isinstance(message, EventAlert):
        key = message.event_id
    elif isinstance(message, StoryRecord):
        key = message.story_id
    else:
        key = getattr(message, "article_id", None)
    return key.encode("utf-8") if key else None


def encode_output(message: Message) -> tuple[str, bytes | None, bytes]:
    """A stage's output as the record both runners publish: its topic, key and bytes.

    Raises ``Reject("output_too_large")`` when the record is larger than its topic takes, so the
    worker (``shared.worker.loop.Step``) and ``newswatch process`` dead-letter the input alike, before
    anything of it is published.
    """
    spec = topic_for(message)
    data = message.to_bytes()
    if len(data) > spec.max_record_bytes:
        raise Reject(
            "output_too_large",
            f"{type(message).__name__} of {len(data):,} bytes; {spec.name} takes {spec.max_record_bytes:,}",
        )
    return spec.name, record_key(message), data
