"""The stories core over a dict store, with vectors given (the embedder is tested in tests/shared/test_embed.py)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from services.stories.core import (
    ARTICLE,
    CANDIDATES,
    LEGACY_DF,
    LEGACY_DOCS,
    MAX_TERMS,
    STORY,
    StoryClusterer,
    is_brief,
    names_of,
    story_text,
    term_counts,
)
from shared.schemas import EnrichedArticle, Entity
from tests.factories import split_sentences

T0 = datetime(2026, 11, 23, 12, tzinfo=UTC)


def article(
    article_id: str,
    *,
    title: str = "Russian troops land in Caracas",
    text: str = "About 100 Russian soldiers arrived in Caracas. Officials confirmed it.",
    at: datetime = T0,
    source: str | None = "example.com",
    names: tuple[tuple[str, str, str | None], ...] = (
        ("Caracas", "GPE", "VE"),
        ("Russian", "NORP", "RU"),
    ),
) -> EnrichedArticle:
    entities = [
        Entity(text=name, label=label, start=0, end=len(name), sentence=0, country=country)
        for name, label, country in names
    ]
    return EnrichedArticle(
        article_id=article_id,
        title=title,
        text=text,
        source=source,
        ingested_at=at,
        sentences=split_sentences(text),
        entities=entities,
    )


def unit(*values: float) -> np.ndarray:
    v = np.zeros(384, dtype=np.float32)
    v[: len(values)] = values
    return v / np.linalg.norm(v)


# Likelihood 0.5 at a cosine of 0.6 alone; names add up to what 0.15 of cosine would.
COSINE_ONLY = (-6.0, 10.0, 0.0, 0.0)
WITH_NAMES = (-6.0, 10.0, 0.0, 1.5)


def clusterer(store: dict, **kw) -> StoryClusterer:
    settings = {
        "window": timedelta(days=3),
        "threshold": 0.5,
        "weights": WITH_NAMES,
        "brief_weights": WITH_NAMES,
    }
    return StoryClusterer(store, **{**settings, **kw})


def test_close_articles_join_one_story_and_a_far_one_opens_another():
    store: dict = {}
    c = clusterer(store)
    first = c.assign(article("a1"), unit(1, 0.1))
    second = c.assign(article("a2", source="other.org"), unit(1, 0.2))
    third = c.assign(article("a3", title="Markets fall", names=()), unit(0, 1))
    assert first.status == "new" and first.size == 1 and first.similarity is None
    assert second.status == "joined" and second.story_id == first.story_id
    assert second.size == 2 and second.sources == ["example.com", "other.org"]
    assert (
        set(second.countries) == {"RU", "VE"} and second.title == "Russian troops land in Caracas"
    )
    assert second.similarity is not None and second.similarity >= 0.5
    assert third.status == "new" and third.story_id != first.story_id


def test_a_redelivered_article_gets_its_story_again_and_counts_once():
    store: dict = {}
    c = clusterer(store)
    c.assign(article("a1"), unit(1, 0.1))
    joined = c.assign(article("a2"), unit(1, 0.2))
    again = c.assign(article("a2"), unit(1, 0.2))
    assert (again.story_id, again.status, again.size) == (joined.story_id, "joined", 2)


def test_a_restarted_clusterer_reads_the_open_stories_from_the_store():
    store: dict = {}
    first = clusterer(store).assign(article("a1"), unit(1, 0.1))
    # A new process over the changelog-restored store: the index is rebuilt from it.
    later = clusterer(store).assign(article("a2"), unit(1, 0.2))
    assert later.story_id == first.story_id and later.size == 2


def test_shared_names_carry_a_borderline_article_into_the_story():
    vector, near = unit(1, 0), unit(1, 1.5)  # cosine 0.55: under 0.6 alone
    with_names = clusterer({}).assign
    with_names(article("a1"), vector)
    assert with_names(article("a2"), near).status == "joined"
    without = clusterer({}).assign
    without(article("a1"), vector)
    assert without(article("a2", names=()), near).status == "new"


def test_a_story_closes_after_the_window_and_is_swept_from_the_store():
    store: dict = {}
    c = clusterer(store, evict_every=1)
    old = c.assign(article("a1"), unit(1, 0.1))
    late = c.assign(article("a2", at=T0 + timedelta(days=4)), unit(1, 0.1))
    assert late.status == "new" and late.story_id != old.story_id
    assert STORY + old.story_id not in store and ARTICLE + "a1" not in store
    assert c.evicted == 1
    assert STORY + late.story_id in store


def test_a_story_of_one_article_closes_sooner_than_a_story_that_grew():
    store: dict = {}
    c = clusterer(store, window=timedelta(days=30), single_window=timedelta(days=7), evict_every=1)
    grown = c.assign(article("a1"), unit(1, 0.1))
    c.assign(article("a2"), unit(1, 0.2))
    alone = c.assign(article("b1", title="Markets fall", names=()), unit(0, 1))
    ten_days = T0 + timedelta(days=10)
    # Ten days on: the lone article's story has closed and left the store; the other has not.
    later = c.assign(article("a3", at=ten_days), unit(1, 0.15))
    assert later.status == "joined" and later.story_id == grown.story_id
    assert STORY + alone.story_id not in store and c.evicted == 1
    again = c.assign(article("b2", title="Markets fall", names=(), at=ten_days), unit(0, 1))
    assert again.status == "new" and again.story_id != alone.story_id


def test_a_single_article_window_longer_than_the_window_is_refused():
    with pytest.raises(ValueError, match="at most"):
        clusterer({}, window=timedelta(days=3), single_window=timedelta(days=7))


def test_only_the_stories_closest_by_embedding_are_scored_in_full():
    scored: list[int] = []

    class Counting(StoryClusterer):
        def features(self, vector, terms, names, rows):  # type: ignore[no-untyped-def]
            scored.append(len(rows))
            return super().features(vector, terms, names, rows)

    c = Counting(
        {}, window=timedelta(days=3), threshold=0.5, weights=COSINE_ONLY, brief_weights=COSINE_ONLY
    )
    c.weights = c.brief_weights = (-6.0, 10.0, 4.0, 4.0)  # terms and names could reach it
    rng = np.random.default_rng(3)
    for n in range(CANDIDATES * 3):
        vector = rng.normal(size=384).astype(np.float32)
        item = article(f"a{n}", title=f"Item zq{n}", text=f"Unique{n} words{n} here{n}.", names=())
        c.assign(item, vector / np.linalg.norm(vector))
    assert len(c.index) > CANDIDATES * 2  # far apart: each opened a story
    assert max(scored) == CANDIDATES


def test_state_per_story_is_small_and_plain_json():
    store: dict = {}
    c = clusterer(store)
    for n in range(30):
        c.assign(article(f"a{n}", source=f"site{n}.com"), unit(1, 0.01 * n))
    (story,) = [v for k, v in store.items() if k.startswith(STORY)]
    assert story["n"] == 30 and len(story["src"]) == 8
    size = len(json.dumps(story))
    assert size < 2048, size
    assert all(len(json.dumps(v)) < 200 for k, v in store.items() if k.startswith(ARTICLE))


def test_the_text_embedded_is_the_title_and_lead_and_names_are_case_folded():
    a = article("a1", text="One. Two. Three.")
    assert story_text(a) == "Russian troops land in Caracas One. Two."
    assert names_of(a) == {"caracas", "russian"}


def test_rare_shared_words_join_articles_that_the_embedding_alone_would_split():
    # Two bids of one desk: equally close embeddings (cosine 0.5) either way; what tells them
    # apart is the names and figures, which the terms carry.
    terms_only = (-6.5, 10.0, 8.0, 0.0)  # a cosine of 0.5 alone: likelihood 0.19
    bid = "Acme Corp offered 412 mln dlrs for Zenith Gear, its board said on Tuesday."
    first = article("r1", title="Acme bids for Zenith", text=bid, names=())
    same = article("r2", title="Zenith Gear weighs Acme's 412 mln dlr bid", text=bid, names=())
    other = article(
        "r3",
        title="Borel Foods to buy Quint Mills",
        text="Borel Foods agreed to pay 96 mln dlrs for Quint Mills, the companies said.",
        names=(),
    )
    outcomes = []
    for later in (same, other):
        c = clusterer({}, weights=terms_only, brief_weights=terms_only)
        c.assign(first, unit(1, 0))
        outcomes.append(c.assign(later, unit(1, 1.7)).status)
    assert outcomes == ["joined", "new"]


def test_terms_stay_bounded_per_story_and_document_counts_fill_the_store():
    store: dict = {}
    c = clusterer(store, weights=COSINE_ONLY, brief_weights=COSINE_ONLY)
    for n in range(40):
        words = " ".join(f"word{n}x{i}" for i in range(30))
        c.assign(article(f"a{n}", title=f"Report {n}", text=words, names=()), unit(1, 0.01 * n))
    (story,) = [v for k, v in store.items() if k.startswith(STORY)]
    assert len(base64.b64decode(story["x"])) == 6 * MAX_TERMS  # uint32 bucket, float16 weight
    assert c.index.docs == 40
    # Each article key holds its 30 terms' buckets (3 bytes each): one record, not one per term.
    held = [len(base64.b64decode(store[f"a:a{n}"][4])) for n in range(40)]
    assert all(size % 3 == 0 and size >= 3 * 30 for size in held)
    assert not [k for k in store if k.startswith(LEGACY_DF) or k == LEGACY_DOCS]
    # The mirror rebuilt from the store scores as the first did.
    again = clusterer(dict(store), weights=COSINE_ONLY, brief_weights=COSINE_ONLY)
    assert again.index.docs == 40 and (again.index.df == c.index.df).all()


def test_document_frequencies_age_out_with_the_article_keys():
    store: dict = {}
    c = clusterer(store, weights=COSINE_ONLY, brief_weights=COSINE_ONLY, evict_every=1)
    (zebra,) = term_counts("zebra")[0].tolist()
    c.assign(article("a1", text="zebra quagga okapi"), unit(1, 0))
    assert c.index.df[zebra] == 1 and c.index.docs == 1
    later = T0 + timedelta(days=4)  # past the 3-day window: a1's key is swept
    c.assign(article("a2", text="giraffe", at=later), unit(0, 1))
    assert "a:a1" not in store
    assert c.index.df[zebra] == 0 and c.index.docs == 1


def test_an_article_sent_again_after_its_story_closed_counts_its_terms_once():
    store: dict = {}
    c = clusterer(store, evict_every=2)
    c.assign(article("a1", text="zebra quagga okapi"), unit(1, 0))
    # A store can hold the key of an article whose story a sweep already dropped (a lone
    # article's story closes before the article keys leave): the story is dropped by hand here,
    # and the article comes again four days on, when the sweep (every second article) is due.
    later = T0 + timedelta(days=4)
    story_key = next(k for k in store if k.startswith(STORY))
    del store[story_key]
    c.index.drop({story_key[len(STORY) :]})
    again = c.assign(article("a1", text="zebra quagga okapi", at=later), unit(1, 0))
    assert again.status == "new"
    (zebra,) = term_counts("zebra")[0].tolist()
    assert c.index.df[zebra] == 1 and c.index.docs == 1  # counted once, not twice, not zero


def test_a_store_of_the_old_layout_loses_its_term_keys_and_still_takes_articles():
    store: dict = {}
    first = clusterer(store).assign(article("a1"), unit(1, 0.1))
    legacy = {**store, "a:a1": store["a:a1"][:4], "d:12345": 3, "N": 7}
    c = clusterer(legacy)
    later = c.assign(article("a2"), unit(1, 0.2))
    assert later.story_id == first.story_id and later.size == 2
    assert "d:12345" not in legacy and "N" not in legacy
    assert c.index.docs == 2  # the old article key counts as an article with no terms


def test_a_headline_only_item_is_brief_and_an_article_with_a_lead_is_not():
    assert is_brief(article("h", title="Markets fall", text="Markets fall"))
    assert not is_brief(article("a", text=" ".join(["word"] * 40)))


def test_a_store_written_before_the_terms_loads_and_its_stories_take_articles():
    store: dict = {}
    first = clusterer(store).assign(article("a1"), unit(1, 0.1))
    old = {k: v for k, v in store["s:" + first.story_id].items() if k != "x"}
    legacy = {"w": store["w"], "s:" + first.story_id: old, "a:a1": store["a:a1"]}
    later = clusterer(legacy).assign(article("a2"), unit(1, 0.2))
    assert later.story_id == first.story_id and later.size == 2
    assert "x" in legacy["s:" + first.story_id]


def test_the_store_stays_under_two_kilobytes_per_article_when_every_article_is_a_story():
    store: dict = {}
    c = clusterer(store)
    rng = np.random.default_rng(7)
    for n in range(50):
        words = " ".join(f"term{n}x{i}" for i in range(60))
        vector = rng.normal(size=384).astype(np.float32)
        c.assign(
            article(f"a{n}", title=f"Story {n}", text=words, names=()),
            vector / np.linalg.norm(vector),
        )
    assert sum(k.startswith(STORY) for k in store) == 50
    assert sum(len(json.dumps(v)) for v in store.values()) / 50 < 2048


def test_an_undated_article_read_years_after_a_dated_story_joins_it_in_either_order():
    dated = article("dated", at=T0).model_copy(update={"published_at": T0})
    today = T0 + timedelta(days=2_000)
    for order in ([dated, article("undated", at=today)], [article("undated", at=today), dated]):
        c = clusterer({})
        first, second = (c.assign(a, unit(1, 0.1)) for a in order)
        assert second.status == "joined" and second.story_id == first.story_id
    # with no dated article, reading time is the clock: a gap past the window closes the story
    c = clusterer({})
    c.assign(article("monday", at=T0), unit(1, 0.1))
    assert c.assign(article("later", at=today), unit(1, 0.1)).status == "new"


class WriteCounting(dict):
    """A store that counts assignments per key, as a changelog counts records."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: dict[str, int] = {}

    def __setitem__(self, key: str, value: object) -> None:
        self.writes[key] = self.writes.get(key, 0) + 1
        super().__setitem__(key, value)


def test_the_clock_is_stored_once_a_minute_of_article_time_and_decides_alike(monkeypatch):
    def run(store: dict) -> list[tuple[str, str]]:
        c = clusterer(store)
        records = []
        for n in range(12):  # an article every 10 s, then one four days later
            at = T0 + timedelta(seconds=10 * n) if n < 11 else T0 + timedelta(days=4)
            vector = unit(1, 0.1 * (n % 3)) if n < 11 else unit(0, 1)
            record = c.assign(article(f"a{n}", at=at), vector)
            records.append((record.story_id, record.status))
        return records

    counted = WriteCounting()
    stepped = run(counted)
    assert counted.writes["w"] == 3  # the first, 60 s later, four days later (not 12)
    monkeypatch.setattr("services.stories.core.CLOCK_STEP", 0)  # stored with every article
    every = WriteCounting()
    assert run(every) == stepped
    assert every.writes["w"] == 12
