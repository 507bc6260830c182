"""The stages chained in one process by topic, no Kafka: what ``newswatch process`` runs for dry runs and backfills.

Each stage reads the previous stage's record as the JSON bytes Kafka would carry and a record goes
to whichever stage consumes its topic, so what the workers would publish or dead-letter is what
this prints, with the same reasons. Duplicates stop because no stage consumes their topic.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from shared.errors import classify, make_dead_letter
from shared.schemas import (
    Alert,
    CleanArticle,
    DeadLetter,
    DuplicateNotice,
    EnrichedArticle,
    EventAlert,
    EventMention,
    Message,
    StoriedArticle,
    StoryRecord,
    UniqueArticle,
)
from shared.settings import ServiceSettings
from shared.stage import Handler, Stage, as_handled
from shared.topics import DEAD_LETTERS, RAW_ARTICLES, encode_output

Kind = Literal[
    "clean",
    "unique",
    "duplicate",
    "enriched",
    "storied",
    "story",
    "alert",
    "event",
    "mention",
    "dead_letter",
]

KINDS: dict[type[Message], Kind] = {
    CleanArticle: "clean",
    UniqueArticle: "unique",
    DuplicateNotice: "duplicate",
    EnrichedArticle: "enriched",
    StoriedArticle: "storied",
    StoryRecord: "story",
    Alert: "alert",
    EventAlert: "event",
    EventMention: "mention",
    DeadLetter: "dead_letter",
}


@dataclass(frozen=True)
class Record:
    """One message the pipeline would publish: its topic, its kind and the message."""

    topic: str
    kind: Kind
    value: Message

    def to_json(self) -> dict[str, Any]:
        """The public ``newswatch process`` line: ``{"topic", "kind", "value"}``."""
        return {"topic": self.topic, "kind": self.kind, "value": self.value.model_dump(mode="json")}


class LocalPipeline:
    """The stages' handlers, built once from their settings, keyed by the topic each consumes.

    A stage with a table gets a plain dict as its store (dedup's index, alerts' events: as long as
    the run, or until ``forget``). Domain counts are the workers' business: here they are dropped.
    """

    def __init__(
        self, stages: Sequence[Stage], settings: Mapping[str, ServiceSettings] | None = None
    ) -> None:
        settings = settings or {}
        self.stores: dict[str, dict[str, Any]] = {}
        self.handlers: dict[str, tuple[Stage, Handler]] = {}
        for stage in stages:
            store = self.stores.setdefault(stage.step, {}) if stage.table else None
            own = settings.get(stage.service) or stage.settings()
            self.handlers[stage.consumes.name] = (stage, stage.make_handler(own, store))

    def forget(self) -> None:
        """Empty every stage's store: the next message is handled as if it were the first."""
        for store in self.stores.values():
            store.clear()

    def feed(self, value: bytes, topic: str = RAW_ARTICLES.name) -> Iterator[Record]:
        """Run one message of ``topic`` through every stage it reaches, depth first."""
        entry = self.handlers.get(topic)
        if (
            entry is None
        ):  # nothing consumes this topic (duplicates, alerts, the last stage's output)
            return
        stage, handler = entry
        try:
            outputs = as_handled(handler(value)).outputs
            # As the worker: every output encoded (and checked against its topic's size) before
            # any is published, so an input with one output too large is dead-lettered whole.
            records = [encode_output(out) for out in outputs]
        except Exception as error:  # noqa: BLE001 — dead-lettered, as the workers do
            reason, is_bug = classify(error)
            letter = make_dead_letter(
                service=stage.service,
                reason=reason,
                error=error,
                value=value,
                source_topic=topic,
                failed_at=datetime.now(UTC),
                with_traceback=is_bug,
            )
            yield Record(DEAD_LETTERS[stage.service].name, "dead_letter", letter)
            return
        for out, (out_topic, _key, data) in zip(outputs, records, strict=True):
            yield Record(out_topic, KINDS[type(out)], out)
            yield from self.feed(data, out_topic)
