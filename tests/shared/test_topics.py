"""The topic registry: one place, one naming rule, every model published somewhere."""

import pytest

from shared.schemas import (
    Alert,
    CleanArticle,
    DeadLetter,
    DuplicateNotice,
    EnrichedArticle,
    RawArticle,
    UniqueArticle,
)
from shared.topics import DEAD_LETTERS, SERVICES, TOPICS, dlq_name, topic_for, topic_name


def test_topic_names_derive_from_model_names():
    assert topic_name(CleanArticle) == "news.clean-article.v1"
    assert topic_name(EnrichedArticle, version=2) == "news.enriched-article.v2"


def test_every_service_has_its_own_dlq():
    assert [DEAD_LETTERS[s].name for s in SERVICES] == [f"news.{s}.dlq" for s in SERVICES]
    assert all(DEAD_LETTERS[s].model is DeadLetter for s in SERVICES)


def test_unknown_service_has_no_dlq():
    with pytest.raises(ValueError):
        dlq_name("cleaner")


def test_topic_names_are_unique_and_follow_the_format():
    names = [t.name for t in TOPICS]
    assert len(names) == len(set(names))
    for name in names:
        assert name.startswith("news.") and (
            name.endswith(".dlq") or name.rsplit(".", 1)[1] == "v1"
        )


@pytest.mark.parametrize(
    "model", [RawArticle, CleanArticle, UniqueArticle, DuplicateNotice, EnrichedArticle, Alert]
)
def test_every_model_has_exactly_one_topic(model):
    assert [t for t in TOPICS if t.model is model and t.model is not DeadLetter] == [
        t for t in TOPICS if t.name == topic_name(model)
    ]


def test_messages_route_to_their_own_models_topic_not_a_parents():
    unique = UniqueArticle(article_id="a", text="x", ingested_at="2019-03-28T00:00:00Z")
    enriched = EnrichedArticle(article_id="a", text="x", ingested_at="2019-03-28T00:00:00Z")
    assert topic_for(unique).name == "news.unique-article.v1"
    assert topic_for(enriched).name == "news.enriched-article.v1"


def test_dedup_input_has_one_partition_so_the_index_sees_every_article():
    assert next(t for t in TOPICS if t.model is CleanArticle).partitions == 1
