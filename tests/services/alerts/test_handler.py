"""alerts' handler over the real model: what it keeps between articles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.alerts import handler
from services.alerts.settings import AlertsSettings
from shared.schemas import Alert
from shared.topics import STORIED_ARTICLES

SEED = Path(__file__).resolve().parents[3] / "seeds" / STORIED_ARTICLES.name
EXAMPLE = (SEED / "bloomberg-russia-deployment.json").read_bytes()

pytestmark = pytest.mark.slow  # the real spaCy model with its parser


def test_what_spacy_interns_for_an_article_is_freed_and_the_rules_still_fire(monkeypatch):
    loaded = []
    original = handler.load_nlp
    monkeypatch.setattr(
        handler, "load_nlp", lambda name: loaded.append(original(name)) or loaded[-1]
    )
    handle = handler.build(AlertsSettings())
    first = handle(EXAMPLE)
    strings = len(loaded[0].vocab.strings)
    # Another article with words the first did not have (Zorvanian, Kestrelport), parsed too.
    other = json.loads(EXAMPLE)
    other |= {
        "article_id": "other",
        "title": "Zorvanian troops deployed to Kestrelport",
        "text": "Zorvanian troops were deployed to Kestrelport on Monday, the ministry said.",
        "sentences": [],
        "entities": [],
        "title_entities": [],
    }
    handle(json.dumps(other).encode())
    again = handle(EXAMPLE)
    assert len(loaded[0].vocab.strings) == strings
    assert first.outputs, "the seed fires"
    key = [(a.alert_id, a.frame) for a in first.outputs if isinstance(a, Alert)]
    assert key == [(a.alert_id, a.frame) for a in again.outputs if isinstance(a, Alert)]
