"""Dedup core: exact, near and contained duplicates, idempotence, sentence novelty, eviction, store round trip.

Texts are the seeds (real news). Copies are made here from them, deterministically.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable, MutableMapping
from datetime import timedelta
from typing import Any

import pytest

from services.dedup import features
from services.dedup.features import content_hash, normalise_tokens, split_sentences
from shared.errors import Reject
from shared.schemas import CleanArticle

from .factories import (
    T0,
    FaustLikeStore,
    duplicate,
    edit_words,
    index_store_keys,
    make_article,
    make_deduplicator,
    read_seed,
    unique,
)

# ------------------------------------------------------------------------------ sentences


def test_sentences_never_cross_paragraphs_or_lines() -> None:
    text = "Headline without a stop\n\nFirst para ends here. Second sentence\n\nNext para."
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "Headline without a stop",
        "First para ends here.",
        "Second sentence",
        "Next para.",
    ]


def test_sentences_keep_abbreviations_and_hard_wrapped_lines() -> None:
    text = "The U.S. said on Monday that the\ntroops would stay. Russia disagreed."
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "The U.S. said on Monday that the\ntroops would stay.",
        "Russia disagreed.",
    ]


def test_sentence_spans_index_into_the_text() -> None:
    text = read_seed("000")
    spans = split_sentences(text)
    assert len(spans) > 10
    assert all(text[s:e].strip() == text[s:e] and text[s:e] for s, e in spans)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_normalisation_ignores_case_quotes_and_spacing() -> None:
    assert normalise_tokens("Russia’s  “SPECIALISTS”\n") == normalise_tokens(
        'russia\'s "specialists"'
    )
    assert content_hash("A  b.\n\nC") == content_hash("a b c")


# ------------------------------------------------------------------------------ exact


def test_same_body_under_another_id_is_an_exact_duplicate() -> None:
    dedup = make_deduplicator({})
    text = read_seed("001")
    unique(dedup.process(make_article("a", text), now=T0))
    notice = duplicate(dedup.process(make_article("b", "  " + text.replace("\n", "\n\n")), now=T0))
    assert (notice.kind, notice.duplicate_of, notice.similarity) == ("exact", "a", 1.0)


def test_empty_body_is_rejected() -> None:
    with pytest.raises(Reject) as err:
        make_deduplicator({}).process(make_article("a", " — \n\n …"), now=T0)
    assert err.value.reason == "empty_text"


# ------------------------------------------------------------------------------ idempotence


@pytest.mark.parametrize("store_factory", [dict, FaustLikeStore], ids=["dict", "json"])
def test_replayed_unique_article_is_published_again_unchanged(
    store_factory: Callable[[], MutableMapping[str, Any]],
) -> None:
    # At-least-once delivery: the replay republishes the very same UniqueArticle (every field,
    # ingested_at included, since it is the same message) and writes nothing.
    store = store_factory()
    dedup = make_deduplicator(store)
    article = make_article("a", read_seed("001"))
    first = unique(dedup.process(article, now=T0))
    before = copy.deepcopy(dict(store.items()))
    for later in (timedelta(0), timedelta(0), timedelta(hours=1)):
        again = unique(dedup.process(article, now=T0 + later))
        assert again == first
        assert again.model_dump_json() == first.model_dump_json()
    assert dict(store.items()) == before  # a replay writes nothing


def test_resubmitted_duplicate_repeats_its_first_verdict() -> None:
    store: dict[str, Any] = {}
    dedup = make_deduplicator(store)
    text = read_seed("003")
    unique(dedup.process(make_article("a", text), now=T0))
    first = duplicate(dedup.process(make_article("b", edit_words(text, 0.03)), now=T0))
    before = copy.deepcopy(store)
    again = duplicate(dedup.process(make_article("b", edit_words(text, 0.03)), now=T0))
    assert (again.duplicate_of, again.kind, again.similarity) == (
        first.duplicate_of,
        first.kind,
        first.similarity,
    )
    assert store == before


def test_same_id_with_a_new_body_replaces_the_old_version() -> None:
    store: dict[str, Any] = {}
    dedup = make_deduplicator(store)
    unique(dedup.process(make_article("a", read_seed("000")), now=T0))
    unique(dedup.process(make_article("a", read_seed("001")), now=T0))
    # The first body is no longer indexed: nothing orphaned is left behind once evicted.
    assert unique(dedup.process(make_article("b", read_seed("000")), now=T0))
    assert dedup.evict(T0 + timedelta(days=31)) == 2
    assert index_store_keys(store) == set()


def test_replay_gives_the_seen_flags_of_the_first_time(
    bloomberg: dict[str, CleanArticle],
) -> None:
    # 002 repeats a few sentences of the earlier 000; after its first visit, its own new
    # sentences are in the index too, and must still not come out seen on the replay.
    store: dict[str, Any] = {}
    dedup = make_deduplicator(store)
    unique(dedup.process(bloomberg["000"], now=T0))
    later = bloomberg["002"].model_copy(update={"ingested_at": T0 + timedelta(minutes=1)})
    first = unique(dedup.process(later, now=later.ingested_at))
    flags = [s.seen for s in first.sentences]
    assert any(flags) and not all(flags)
    assert any(store.get("s:" + s.fingerprint) == "002" for s in first.sentences if not s.seen)
    assert unique(dedup.process(later, now=later.ingested_at)) == first


def test_replay_reads_the_seen_flags_from_its_record_not_from_the_index(
    bloomberg: dict[str, CleanArticle],
) -> None:
    store: dict[str, Any] = {}
    dedup = make_deduplicator(store)
    unique(dedup.process(bloomberg["000"], now=T0))
    later = bloomberg["002"].model_copy(update={"ingested_at": T0 + timedelta(minutes=1)})
    first = unique(dedup.process(later, now=later.ingested_at))
    # The earlier holder of the shared sentences leaves the index (its id gets a new body):
    # the index no longer knows those sentences were seen, the record of 002 does.
    unique(dedup.process(make_article("000", read_seed("003")), now=T0 + timedelta(minutes=2)))
    assert unique(dedup.process(later, now=later.ingested_at)) == first
    without_flags = copy.deepcopy(store)
    del without_flags["a:002"]["e"]
    recomputed = unique(make_deduplicator(without_flags).process(later, now=later.ingested_at))
    assert [s.seen for s in recomputed.sentences] != [s.seen for s in first.sentences]


def test_replay_of_a_record_without_stored_flags_recomputes_them_without_itself(
    bloomberg: dict[str, CleanArticle],
) -> None:
    # Records indexed before the flags were stored lack "e": the flags come from the index, where
    # the article's own sentences do not count. Same answer while the earlier holders remain.
    store: dict[str, Any] = {}
    dedup = make_deduplicator(store)
    unique(dedup.process(bloomberg["000"], now=T0))
    first = unique(dedup.process(bloomberg["002"], now=T0))
    del store["a:002"]["e"]
    before = copy.deepcopy(store)
    assert unique(dedup.process(bloomberg["002"], now=T0)) == first
    assert store == before  # the old record is not rewritten either


def test_replay_after_other_articles_were_indexed(
    seed_004: list[CleanArticle], bloomberg: dict[str, CleanArticle]
) -> None:
    store = FaustLikeStore()  # values rebuilt from JSON, as a faust Table's changelog would
    dedup = make_deduplicator(store)
    reuters, guardian, vox = seed_004[:3]
    first = unique(dedup.process(reuters, now=T0))
    # Then: an article quoting it in full (sentences now seen twice), others, and a copy of it.
    quoting = make_article("vox+reuters", vox.text + "\n" + reuters.text)
    firsts = [unique(dedup.process(a, now=T0)) for a in (quoting, guardian, bloomberg["000"])]
    notice = duplicate(dedup.process(seed_004[3], now=T0))
    assert notice.duplicate_of == reuters.article_id
    assert unique(dedup.process(reuters, now=T0)) == first
    for article, result in zip((quoting, guardian, bloomberg["000"]), firsts, strict=True):
        assert unique(dedup.process(article, now=T0)) == result
    assert duplicate(dedup.process(seed_004[3], now=T0)) == notice


def test_replay_after_its_record_was_evicted_is_decided_as_a_new_article(
    bloomberg: dict[str, CleanArticle],
) -> None:
    # Nothing is remembered past the window: the replay (same ingested_at) is decided against
    # what the store still holds, like any new article, and indexed again. Here the earlier
    # article that held its seen sentences is gone too, so none comes out seen this time.
    store: dict[str, Any] = {}
    dedup = make_deduplicator(store)
    unique(dedup.process(bloomberg["000"], now=T0))
    later = bloomberg["002"].model_copy(update={"ingested_at": T0 + timedelta(minutes=1)})
    first = unique(dedup.process(later, now=later.ingested_at))
    assert dedup.evict(T0 + timedelta(days=31)) == 2
    assert index_store_keys(store) == set()
    replay = unique(dedup.process(later, now=later.ingested_at))
    assert replay == first.model_copy(
        update={"sentences": [s.model_copy(update={"seen": False}) for s in first.sentences]}
    )
    assert "a:002" in store
    # Its time slot was already walked: it is filed where the next eviction pass looks.
    assert dedup.evict(T0 + timedelta(days=31, hours=1)) == 1
    assert index_store_keys(store) == set()


def test_same_id_with_another_body_is_decided_afresh() -> None:
    store: dict[str, Any] = {}
    dedup = make_deduplicator(store)
    unique(dedup.process(make_article("c", read_seed("003")), now=T0))
    v1 = unique(dedup.process(make_article("a", read_seed("000")), now=T0))
    v2 = unique(dedup.process(make_article("a", read_seed("001")), now=T0))
    record = store["a:a"]
    assert unique(dedup.process(make_article("a", read_seed("001")), now=T0)) == v2
    # A body that copies another article is its duplicate; the unique version stays indexed.
    notice = duplicate(dedup.process(make_article("a", edit_words(read_seed("003"), 0.03)), now=T0))
    assert notice.duplicate_of == "c"
    assert store["a:a"] == record
    assert unique(dedup.process(make_article("a", read_seed("001")), now=T0)) == v2
    # The first body again replaces the second.
    assert unique(dedup.process(make_article("a", read_seed("000")), now=T0)) == v1


# ------------------------------------------------------------------------------ near and contained


@pytest.mark.parametrize("rate", [0.02, 0.035, 0.05])
def test_copy_with_edited_words_is_a_near_duplicate(rate: float) -> None:
    dedup = make_deduplicator({})
    text = read_seed("003")
    unique(dedup.process(make_article("orig", text), now=T0))
    notice = duplicate(dedup.process(make_article("copy", edit_words(text, rate)), now=T0))
    assert notice.duplicate_of == "orig"
    assert notice.kind in ("near", "contained")


@pytest.mark.parametrize(("keep", "kind"), [(0.3, "contained"), (0.5, "contained"), (0.8, "near")])
def test_truncated_copy_is_contained(seed_004: list[CleanArticle], keep: float, kind: str) -> None:
    # Kind "near" wins when the Jaccard similarity alone is enough (a copy missing only its end).
    dedup = make_deduplicator({})
    guardian = seed_004[1]
    unique(dedup.process(guardian, now=T0))
    lines = guardian.text.split("\n")
    truncated = "\n".join(lines[: int(len(lines) * keep)])
    notice = duplicate(dedup.process(make_article("trunc", truncated), now=T0))
    assert (notice.duplicate_of, notice.kind) == (guardian.article_id, kind)
    assert notice.similarity >= (0.9 if kind == "contained" else 0.5)


def test_copy_with_new_headline_dateline_teaser_and_footer_is_a_duplicate(
    seed_004: list[CleanArticle],
) -> None:
    dedup = make_deduplicator({})
    vox = seed_004[2]
    unique(dedup.process(vox, now=T0))
    lines = vox.text.split("\n")
    body = lines[4:]
    body[0] = "WASHINGTON, March 27 (Newswire) - " + body[0]
    body.insert(5, "Read more: Venezuela opposition fears crackdown after Maduro threatens arrests")
    body.insert(9, "Advertisement")
    repost = "\n\n".join(
        ["Moscow's men in Caracas: what Russia wants", "By Staff Writer | 2 hours ago", *body]
        + [
            "Reporting by Newswire staff; Editing by Desk Editor",
            "(c) 2019 Newswire. All rights reserved.",
        ]
    )
    notice = duplicate(dedup.process(make_article("repost", repost, title="Moscow's men"), now=T0))
    assert notice.duplicate_of == vox.article_id


def test_copy_with_edits_and_truncation_is_still_found(seed_004: list[CleanArticle]) -> None:
    dedup = make_deduplicator({})
    guardian = seed_004[1]
    unique(dedup.process(guardian, now=T0))
    lines = guardian.text.split("\n")
    copy_ = edit_words("\n".join(lines[: len(lines) // 2]), 0.04, seed=3)
    assert (
        duplicate(dedup.process(make_article("c", copy_), now=T0)).duplicate_of
        == guardian.article_id
    )


def test_duplicate_points_at_the_first_article_seen() -> None:
    dedup = make_deduplicator({})
    text = read_seed("003")
    unique(dedup.process(make_article("first", text), now=T0))
    duplicate(dedup.process(make_article("second", edit_words(text, 0.03, seed=1)), now=T0))
    third = duplicate(dedup.process(make_article("third", edit_words(text, 0.03, seed=2)), now=T0))
    assert third.duplicate_of == "first"


def test_unrelated_articles_of_the_same_topic_stay_unique(seed_004: list[CleanArticle]) -> None:
    # Eight different stories about Russian troops in Venezuela, all from the same week.
    dedup = make_deduplicator({})
    articles = [make_article(p, read_seed(p)) for p in ("000", "001", "002", "003")] + seed_004[:3]
    for article in articles:
        unique(dedup.process(article, now=T0))


def test_article_quoting_an_older_one_in_full_but_adding_more_is_unique(
    seed_004: list[CleanArticle],
) -> None:
    # Vox followed by the whole Reuters story: containment is measured from the new article.
    dedup = make_deduplicator({})
    reuters, _, vox = seed_004[:3]
    unique(dedup.process(reuters, now=T0))
    combined = unique(
        dedup.process(make_article("vox+reuters", vox.text + "\n" + reuters.text), now=T0)
    )
    assert any(s.seen for s in combined.sentences) and not all(s.seen for s in combined.sentences)


# ------------------------------------------------------------------------------ seeds


def test_second_copies_in_seed_004_are_duplicates_of_the_first(
    seed_004: list[CleanArticle],
) -> None:
    dedup = make_deduplicator({})
    results = [dedup.process(a, now=T0 + timedelta(minutes=i)) for i, a in enumerate(seed_004)]
    for r in results[:3]:
        unique(r)
    pairs = [(duplicate(r).article_id, duplicate(r).duplicate_of) for r in results[3:]]
    assert pairs == [("004-4", "004-1"), ("004-5", "004-2"), ("004-6", "004-3")]


@pytest.mark.parametrize("order", [("000", "002"), ("002", "000")])
def test_bloomberg_stories_are_unique_and_share_seen_sentences(
    bloomberg: dict[str, CleanArticle], order: tuple[str, str]
) -> None:
    dedup = make_deduplicator({})
    first = unique(dedup.process(bloomberg[order[0]], now=T0))
    second = unique(dedup.process(bloomberg[order[1]], now=T0 + timedelta(minutes=1)))
    assert not any(s.seen for s in first.sentences)
    seen = {s.text for s in second.sentences if s.seen}
    assert any(
        t.startswith("A Venezuelan Information Ministry official, speaking on the condition")
        for t in seen
    )
    assert "©2019 Bloomberg L.P." in seen
    assert len(seen) < len(second.sentences) / 3
    firsts = {s.fingerprint for s in first.sentences}
    assert {s.fingerprint for s in second.sentences if s.seen} <= firsts


def test_sentences_carry_offsets_and_fingerprints(bloomberg: dict[str, CleanArticle]) -> None:
    article = unique(make_deduplicator({}).process(bloomberg["000"], now=T0))
    assert [s.index for s in article.sentences] == list(range(len(article.sentences)))
    assert all(article.text[s.start : s.end] == s.text and s.fingerprint for s in article.sentences)
    assert article.content_hash == content_hash(article.text)


# ------------------------------------------------------------------------------ window and state


def test_articles_older_than_the_window_are_forgotten() -> None:
    store: dict[str, Any] = {}
    # No eviction pass within a year of article time.
    dedup = make_deduplicator(store, window=timedelta(days=2), evict_every=timedelta(days=365))
    text = read_seed("001")
    unique(dedup.process(make_article("old", text), now=T0))
    duplicate(dedup.process(make_article("inside", text), now=T0 + timedelta(days=1)))
    # Outside the window the old copy is ignored even before eviction has run.
    unique(dedup.process(make_article("outside", text), now=T0 + timedelta(days=2, hours=2)))


def test_evict_removes_every_key_of_expired_articles(seed_004: list[CleanArticle]) -> None:
    store: dict[str, Any] = {}
    dedup = make_deduplicator(store, window=timedelta(days=30), evict_every=timedelta(days=365))
    for i, article in enumerate(seed_004):
        dedup.process(article, now=T0 + timedelta(hours=i))
    dedup.process(make_article("late", read_seed("000")), now=T0 + timedelta(days=10))
    assert dedup.evict(T0 + timedelta(days=20)) == 0
    # 3 unique articles and 3 remembered duplicate verdicts leave the window.
    assert dedup.evict(T0 + timedelta(days=31)) == 6
    assert {k.split(":")[0] for k in index_store_keys(store)} >= {"a", "h", "b", "s", "t"}
    assert not any(k == "a:004-1" or k.startswith("a:004") for k in store)
    assert dedup.evict(T0 + timedelta(days=41)) == 1
    assert index_store_keys(store) == set()
    assert unique(dedup.process(seed_004[0], now=T0 + timedelta(days=42)))


def test_process_evicts_as_time_passes() -> None:
    store: dict[str, Any] = {}
    dedup = make_deduplicator(store, window=timedelta(days=1))
    unique(dedup.process(make_article("a", read_seed("000")), now=T0))
    unique(dedup.process(make_article("b", read_seed("001")), now=T0 + timedelta(days=3)))
    assert not any(k.startswith("a:a") for k in store)


def test_process_evicts_once_the_oldest_hour_has_been_outside_the_window_for_evict_every() -> None:
    # "a" is filed in the hour T0..T0+1h, which leaves a 1-day window at T0+1d+1h; with passes
    # 2 hours apart it is evicted by the first article at T0+1d+3h or later, not before.
    store: dict[str, Any] = {}
    dedup = make_deduplicator(store, window=timedelta(days=1), evict_every=timedelta(hours=2))
    unique(dedup.process(make_article("a", read_seed("000")), now=T0))
    assert dedup.evicted == 0
    unique(
        dedup.process(make_article("b", read_seed("001")), now=T0 + timedelta(hours=26, minutes=59))
    )
    assert dedup.evicted == 0
    assert "a:a" in store
    unique(dedup.process(make_article("c", read_seed("003")), now=T0 + timedelta(hours=27)))
    assert dedup.evicted == 1
    assert "a:a" not in store and {"a:b", "a:c"} <= set(store)


def test_a_worker_restarted_before_every_article_evicts_at_the_same_articles(
    seed_004: list[CleanArticle],
) -> None:
    # Eviction is decided from the article's time and the store alone (its slot cursor), never
    # from the clock or the instance: a Deduplicator rebuilt from the store's JSON before each
    # article evicts where one long-lived Deduplicator does.
    texts = [read_seed(p) for p in ("000", "001", "002", "003")] + [a.text for a in seed_004[:3]]
    hours = (0, 5, 26, 27, 49, 75, 76)
    articles = [
        make_article(f"x{h}", text, ingested_at=T0 + timedelta(hours=h))
        for h, text in zip(hours, texts, strict=True)
    ]
    window = timedelta(days=1)
    long_store: dict[str, Any] = {}
    long_lived = make_deduplicator(long_store, window=window)
    evicted = []
    for a in articles:
        unique(long_lived.process(a, now=a.ingested_at))
        evicted.append(long_lived.evicted)
    # At 26h the hour of x0 has been out for an hour; at 27h the next expired hour (2h..3h) has
    # not been out for 5 minutes yet; at 49h x5 goes; at 75h x26, x27 and x49; at 76h nothing.
    assert evicted == [0, 0, 1, 0, 1, 3, 0]
    store: dict[str, Any] = {}
    restarted = []
    for a in articles:
        store = json.loads(json.dumps(store))
        dedup = make_deduplicator(store, window=window)
        unique(dedup.process(a, now=a.ingested_at))
        restarted.append(dedup.evicted)
    assert restarted == evicted
    assert store == long_store


def test_the_article_that_evicted_evicts_nothing_when_replayed() -> None:
    store: dict[str, Any] = {}
    dedup = make_deduplicator(store, window=timedelta(days=1))
    unique(dedup.process(make_article("a", read_seed("000")), now=T0))
    later = make_article("b", read_seed("001"), ingested_at=T0 + timedelta(days=2))
    first = unique(dedup.process(later, now=later.ingested_at))
    assert dedup.evicted == 1
    before = copy.deepcopy(store)
    assert unique(dedup.process(later, now=later.ingested_at)) == first
    assert dedup.evicted == 0
    assert store == before
    # Nor does a late article, older than the pass.
    unique(dedup.process(make_article("c", read_seed("003")), now=T0 + timedelta(hours=1)))
    assert dedup.evicted == 0


def test_a_rejected_article_evicts_nothing() -> None:
    store: dict[str, Any] = {}
    dedup = make_deduplicator(store, window=timedelta(days=1))
    unique(dedup.process(make_article("a", read_seed("000")), now=T0))
    before = copy.deepcopy(store)
    with pytest.raises(Reject):
        dedup.process(make_article("empty", " — "), now=T0 + timedelta(days=2))
    assert dedup.evicted == 0
    assert store == before


def test_store_survives_a_json_round_trip(
    seed_004: list[CleanArticle], bloomberg: dict[str, CleanArticle]
) -> None:
    store: dict[str, Any] = {}
    dedup = make_deduplicator(store)
    for article in seed_004[:3]:
        unique(dedup.process(article, now=T0))
    unique(dedup.process(bloomberg["000"], now=T0))
    # A changelog replay on another worker: the same keys, values rebuilt from JSON.
    restored = json.loads(json.dumps(store))
    again = make_deduplicator(restored)
    pairs = [(duplicate(again.process(a, now=T0)).duplicate_of) for a in seed_004[3:]]
    assert pairs == ["004-1", "004-2", "004-3"]
    assert any(s.seen for s in unique(again.process(bloomberg["002"], now=T0)).sentences)


def test_store_values_are_only_ever_assigned(
    seed_004: list[CleanArticle], bloomberg: dict[str, CleanArticle]
) -> None:
    # Any in-place mutation of a stored list or dict would be lost by this store.
    store = FaustLikeStore()
    dedup = make_deduplicator(store)
    for i, article in enumerate([*seed_004, bloomberg["000"], bloomberg["002"]]):
        dedup.process(article, now=T0 + timedelta(minutes=i))
    reference: dict[str, Any] = {}
    ref = make_deduplicator(reference)
    for i, article in enumerate([*seed_004, bloomberg["000"], bloomberg["002"]]):
        ref.process(article, now=T0 + timedelta(minutes=i))
    assert dict(store.items()) == json.loads(json.dumps(reference))
    assert dedup.evict(T0 + timedelta(days=31)) == 8
    assert index_store_keys(store) == set()


def test_store_built_with_other_parameters_is_refused() -> None:
    store: dict[str, Any] = {}
    make_deduplicator(store).process(make_article("a", read_seed("000")), now=T0)
    with pytest.raises(ValueError, match="store was built with"):
        make_deduplicator(store, num_perm=64, bands=16).process(
            make_article("b", read_seed("001")), now=T0
        )


def test_splitting_sentences_frees_what_the_tokenizer_interns():
    """A long-running dedup worker meets new words all the time: its string store must not grow."""
    nlp = features._default_nlp()
    split_sentences("Warm-up text. It has two sentences.", nlp)
    before = len(nlp.vocab.strings)
    spans = split_sentences("Qwertyzan envoys met in Vloxburg. Talks went on.", nlp)
    assert len(spans) == 2
    assert len(nlp.vocab.strings) == before
