"""The four cores chained in one process, no Kafka: what ``newswatch process`` runs for dry runs and backfills.

Each stage reads the previous stage's record as the JSON bytes Kafka would carry, so a message that
would be dead-lettered in the pipeline is dead-lettered here too, with the same reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from shared.errors import classify, make_dead_letter
from shared.schemas import (
    Alert,
    CleanArticle,
    DeadLetter,
    DuplicateNotice,
    EnrichedArticle,
    Message,
    UniqueArticle,
)
from shared.topics import DEAD_LETTERS, RAW_ARTICLES, topic_for

Kind = Literal["clean", "unique", "duplicate", "enriched", "alert", "dead_letter"]

KINDS: dict[type[Message], Kind] = {
    CleanArticle: "clean",
    UniqueArticle: "unique",
    DuplicateNotice: "duplicate",
    EnrichedArticle: "enriched",
    Alert: "alert",
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


@dataclass
class LocalPipeline:
    """clean → dedup → entities → alerts over one process; the dedup index is a plain dict."""

    nlp: Any
    rules: Sequence[Any]
    detector: Any = None
    store: MutableMapping[str, Any] = field(default_factory=dict)
    max_bytes: int = 2_000_000
    window: timedelta = timedelta(days=30)
    until: str = "alerts"  # the last stage to run
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    def __post_init__(self) -> None:
        from services.dedup.core import Deduplicator

        self.deduplicator = Deduplicator(self.store, window=self.window)

    @classmethod
    def with_real_model(cls, spacy_model: str = "en_core_web_sm", until: str = "alerts",
                        **kwargs: Any) -> LocalPipeline:
        """The pipeline as the services run it: the real spaCy model, the shipped rules.

        The model is only loaded when the run goes as far as entities.
        """
        from services.alerts.core import load_rules
        from services.clean.core import build_language_detector
        from services.entities.core import load_nlp

        nlp = load_nlp(spacy_model) if until in ("entities", "alerts") else None
        return cls(nlp=nlp, rules=load_rules(), detector=build_language_detector(), until=until, **kwargs)

    def feed(self, value: bytes) -> Iterator[Record]:
        """Run one input message (the raw-article topic's bytes) through all four stages."""
        from services.alerts.core import evaluate
        from services.clean.core import clean_article, decode_raw
        from services.entities.core import extract_entities

        def clean(data: bytes) -> list[Message]:
            raw = decode_raw(data, max_bytes=self.max_bytes)
            return list(clean_article(raw, ingested_at=self.clock(), detector=self.detector))

        def dedup(data: bytes) -> list[Message]:
            article = CleanArticle.model_validate_json(data)
            return [self.deduplicator.process(article, now=article.ingested_at)]

        def entities(data: bytes) -> list[Message]:
            return [extract_entities(UniqueArticle.model_validate_json(data), self.nlp)]

        def alerts(data: bytes) -> list[Message]:
            article = EnrichedArticle.model_validate_json(data)
            return list(evaluate(article, list(self.rules), fired_at=self.clock()))

        stages: list[tuple[str, Callable[[bytes], list[Message]]]] = [
            ("clean", clean), ("dedup", dedup), ("entities", entities), ("alerts", alerts)
        ]
        stages = stages[: [name for name, _ in stages].index(self.until) + 1]
        yield from self._run(stages, 0, value, RAW_ARTICLES.name)

    def _run(
        self,
        stages: list[tuple[str, Callable[[bytes], list[Message]]]],
        at: int,
        value: bytes,
        source_topic: str,
    ) -> Iterator[Record]:
        if at == len(stages):
            return
        service, stage = stages[at]
        try:
            outputs = stage(value)
        except Exception as error:  # noqa: BLE001 — dead-lettered, as the services do
            reason, is_bug = classify(error)
            letter = make_dead_letter(service=service, reason=reason, error=error, value=value,
                                      source_topic=source_topic, failed_at=self.clock(),
                                      with_traceback=is_bug)
            yield Record(DEAD_LETTERS[service].name, "dead_letter", letter)
            return
        for out in outputs:
            topic = topic_for(out).name
            yield Record(topic, KINDS[type(out)], out)
            # Duplicates stop here; everything else flows on to the next stage.
            if not isinstance(out, DuplicateNotice):
                yield from self._run(stages, at + 1, out.to_bytes(), topic)
