"""alerts' handlers: the rules (enriched article → alerts) and the events they fold into."""

from __future__ import annotations

from collections import Counter
from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from spacy.language import Language

from services.alerts.compile import load_rules
from services.alerts.evaluate import evaluate, make_parser
from services.alerts.events import EventFolder
from services.alerts.reload import ReloadingRules
from services.alerts.rules import RULES_PATH
from services.alerts.settings import AlertsSettings
from services.entities.pipeline import load_nlp as load_entities_nlp
from shared.embed import SentenceEmbedder
from shared.schemas import Alert, EventAlert, StoriedArticle
from shared.stage import Count, Handled, Handler

# What the rules need of spaCy: lemmas (tagger, attribute_ruler, lemmatizer) and the parse.
# The entities stage disables them for speed; here they run on candidate sentences only.
_PARSE_PIPES = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer")


def load_nlp(name: str) -> Language:
    """The spaCy pipeline for the rules: the entities stage's loader (same fallback), parser and lemmatizer on."""
    nlp = load_entities_nlp(name)  # builds the domain ruler with the unused pipes off (fast)
    for pipe in _PARSE_PIPES:
        if pipe in nlp.disabled:
            nlp.enable_pipe(pipe)
    return nlp


def build(settings: AlertsSettings, store: MutableMapping[str, Any] | None = None) -> Handler:
    """The model is loaded once; the rules from NEWS_ALERTS_RULES (or the shipped rules.yaml), reloaded on change."""
    nlp = load_nlp(settings.alerts_spacy_model)
    path = Path(settings.alerts_rules) if settings.alerts_rules else RULES_PATH
    # Loaded once per process (~0.4 s): rules by example score candidate sentences with it.
    embed = SentenceEmbedder(threads=settings.alerts_embed_threads)
    rules = ReloadingRules(
        path,
        lambda p: load_rules(p, vocab=nlp.vocab, embed=embed),
        check_s=settings.alerts_rules_check_s,
    )
    parse = make_parser(nlp)

    def handle(value: bytes) -> Handled:
        """An article with its story → one alert per rule and sentence (or title) that matched, with the story."""
        article = StoriedArticle.model_validate_json(value)
        current = rules.current()  # a reload interns its patterns' strings: outside the zone
        # Strings spaCy interns while parsing this article are freed on exit, so a long-running
        # worker's string store does not grow with every new word (+3 KB an article over 10,000
        # Reuters wires without it); the alerts hold plain str only.
        with nlp.memory_zone():
            alerts = evaluate(article, current, parse, fired_at=datetime.now(UTC))
        fired = Counter(alert.rule_id for alert in alerts)
        return Handled(
            tuple(alerts),
            tuple(Count("alerts_fired", (rule,), n) for rule, n in sorted(fired.items())),
        )

    return handle


def build_events(
    settings: AlertsSettings, store: MutableMapping[str, Any] | None = None
) -> Handler:
    """The events step over the stage's store (the worker's changelogged Table, a dict in ``newswatch process``)."""
    if store is None:
        raise ValueError("the events stage needs its store")
    folder = EventFolder(store, window=timedelta(days=settings.alerts_event_window_days))

    def handle(value: bytes) -> Handled:
        """An alert → the record of the event it reports: new or update (news.event-alert.v1), or mention."""
        record = folder.fold(Alert.model_validate_json(value))
        counts = [Count("events_evicted", (), folder.evicted)]
        if isinstance(record, EventAlert):
            counts.append(Count("events", (record.rule_id, record.status)))
        return Handled((record,), tuple(counts))

    return handle
