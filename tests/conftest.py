"""Fixtures shared across test folders: the real spaCy model (slow tests) and the seed articles."""

from __future__ import annotations

from pathlib import Path

import pytest
from spacy.language import Language

from services.entities.pipeline import load_nlp
from services.entities.settings import EntitiesSettings

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


@pytest.fixture(scope="session")
def nlp() -> Language:
    """The real en_core_web_sm pipeline as the entities service loads it, once a session (slow tests)."""
    return load_nlp(EntitiesSettings().entities_spacy_model)


@pytest.fixture(scope="session")
def seed_texts() -> dict[str, str]:
    """The scraped seed articles, by file stem."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}
