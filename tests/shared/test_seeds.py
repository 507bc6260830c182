"""seeds/: the five sample articles exactly as scraped, and one folder of example payloads per topic."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from shared.topics import TOPICS

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
SHARED_SEEDS = REPO.parent / "shared" / "seeds"
EXAMPLES = sorted(p for p in SEEDS.glob("news.*/*.json"))


def test_the_five_sample_articles_are_byte_for_byte_the_shared_seeds():
    ours = sorted(p.name for p in SEEDS.glob("*.txt"))
    assert len(ours) == 5
    assert SHARED_SEEDS.is_dir(), "../shared/seeds must sit beside the repository"
    for name in ours:
        assert (
            hashlib.sha256((SEEDS / name).read_bytes()).digest()
            == hashlib.sha256((SHARED_SEEDS / name).read_bytes()).digest()
        ), name


def test_every_example_folder_is_a_topic_and_every_topic_but_three_dlqs_has_examples():
    names = {t.name for t in TOPICS}
    folders = {p.name for p in SEEDS.iterdir() if p.is_dir()}
    assert folders <= names
    assert {t.name for t in TOPICS if not t.name.endswith(".dlq")} <= folders


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_each_example_validates_against_its_topics_model(path):
    spec = next(t for t in TOPICS if t.name == path.parent.name)
    spec.model.model_validate_json(path.read_bytes())
