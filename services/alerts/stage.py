"""alerts' stages: rules (consumes news.enriched-article.v1, produces news.alert.v1) and events (consumes news.alert.v1, produces news.event-alert.v1 and news.event-mention.v1); both dead-letter news.alerts.dlq.

The alerts workers run both. The alert topic is keyed by ``Alert.bucket``, so the events stage
reads it partitioned by bucket: one worker owns a bucket's events in its changelogged Table,
however many alerts workers run.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from spacy.language import Language

from services.alerts import core
from services.alerts.events import EventFolder
from services.alerts.reload import ReloadingRules
from services.alerts.settings import AlertsSettings
from shared.metrics import ServiceMetrics
from shared.schemas import Alert, EnrichedArticle, EventAlert, Message
from shared.stage import Handler, Stage
from shared.topics import ALERTS, ENRICHED_ARTICLES, EVENT_ALERTS, EVENT_MENTIONS

# What the rules need of spaCy: lemmas (tagger, attribute_ruler, lemmatizer) and the parse.
# The entities stage disables them for speed; here they run on candidate sentences only.
_PARSE_PIPES = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")


def load_nlp(name: str) -> Language:
    """The spaCy pipeline for the rules: the entities stage's loader (same fallback), parser and lemmatizer on."""
    from services.entities.pipeline import load_nlp as load_entities_nlp

    nlp = load_entities_nlp(name)  # builds the domain ruler with the unused pipes off (fast)
    for pipe in _PARSE_PIPES:
        if pipe in nlp.disabled:
            nlp.enable_pipe(pipe)
    return nlp


def build(settings: AlertsSettings, store: MutableMapping[str, Any] | None, metrics: ServiceMetrics) -> Handler:
    """The model is loaded once; the rules from NEWS_ALERTS_RULES (or the shipped rules.yaml), reloaded on change."""
    nlp = load_nlp(settings.alerts_spacy_model)
    path = Path(settings.alerts_rules) if settings.alerts_rules else core.RULES_PATH
    rules = ReloadingRules(path, lambda p: core.load_rules(p, vocab=nlp.vocab),
                           check_s=settings.alerts_rules_check_s)
    parse = core.make_parser(nlp)

    def handle(value: bytes) -> list[Message]:
        """An enriched article → one alert per rule and sentence (or title) that matched."""
        article = EnrichedArticle.model_validate_json(value)
        return list(core.evaluate(article, rules.current(), parse, fired_at=datetime.now(UTC)))

    return handle


def observe(metrics: ServiceMetrics, outputs: Sequence[Message]) -> None:
    """Alerts fired, by rule."""
    counter = metrics.counter("alerts_fired", "Alerts fired, by rule.", ("rule",))
    for out in outputs:
        if isinstance(out, Alert):
            counter.labels(metrics.service, out.rule_id).inc()


STAGE = Stage("alerts", ENRICHED_ARTICLES, (ALERTS,), AlertsSettings, build, observe=observe)


def build_events(settings: AlertsSettings, store: MutableMapping[str, Any] | None,
                 metrics: ServiceMetrics) -> Handler:
    """The events step over the stage's store (the worker's changelogged Table, a dict in ``newswatch process``)."""
    if store is None:
        raise ValueError("the events stage needs its store")
    folder = EventFolder(store, window=timedelta(days=settings.alerts_event_window_days))
    evicted = metrics.counter("events_evicted", "Events that left the store, their window over (article time).")

    def handle(value: bytes) -> list[Message]:
        """An alert → the record of the event it reports: new or update (news.event-alert.v1), or mention."""
        record = folder.fold(Alert.model_validate_json(value))
        if folder.evicted:
            evicted.labels(metrics.service).inc(folder.evicted)
        return [record]

    return handle


def observe_events(metrics: ServiceMetrics, outputs: Sequence[Message]) -> None:
    """Event records published, by rule and status (new, update, mention)."""
    counter = metrics.counter("events", "Alerts folded into events, by rule and status (new, update, mention).",
                              ("rule", "status"))
    for out in outputs:
        if isinstance(out, EventAlert):
            counter.labels(metrics.service, out.rule_id, out.status).inc()


EVENTS = Stage("alerts", ALERTS, (EVENT_ALERTS, EVENT_MENTIONS), AlertsSettings, build_events,
               observe=observe_events, table="events", isolated=False, name="events")
