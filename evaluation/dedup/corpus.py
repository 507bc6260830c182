"""Near-duplicate benchmark for the dedup stage, built from the BBC corpus (bbc/ in the corpora folder, ``NEWS_CORPORA_DIR``).

Consumes the BBC text files (read in place, never copied); produces a deterministic stream of
``CleanArticle`` items with labels, and scores a run of ``Deduplicator.process`` over it.

The stream is the corpus itself, in a seeded random order, plus synthetic re-posts of some of
its articles, each inserted somewhere after its original. A re-post applies two to four of:
a new headline (also as the first line of the text, as scrapers often keep it), a dateline, an
agency footer, teaser and filler lines, dropped or reordered paragraphs, 2-5% of words edited,
and truncation.

Labels account for the corpus's own duplicates. All pairs of corpus articles are compared
exactly (word 3-shingle sets, inverted index):

* Jaccard >= ``SAME_STORY_JACCARD`` (0.8): the same story (the 98 byte-identical files and
  lightly edited re-issues). They form clusters; every member after the first one in the stream
  is labelled a duplicate, and any member of the cluster is an acceptable ``duplicate_of``.
* containment >= ``REWRITE_CONTAINMENT`` (0.2) without being the same story: a rewritten or
  updated version (a later story reusing paragraphs of an earlier one). Whether those are
  duplicates is a judgement call, so these articles stay in the stream but are not scored and
  are never used as the base of a re-post. ``Score.rewrites_flagged`` reports what happened to
  them.

Everything else is labelled unique: unrelated articles of the same five topics.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from evaluation.settings import corpora_dir
from shared.schemas import CleanArticle, DuplicateNotice, UniqueArticle

SAME_STORY_JACCARD = 0.8
REWRITE_CONTAINMENT = 0.2
T0 = datetime(2005, 3, 1, tzinfo=UTC)
STEP = timedelta(minutes=10)  # 3,000 items span 21 days: all inside the default 30-day window

CITIES = ["LONDON", "NEW YORK", "PARIS", "BRUSSELS", "WASHINGTON", "MANCHESTER", "SYDNEY", "DUBLIN"]
AGENCIES = ["Reuters", "AP", "AFP", "PA", "Newswire", "Wire Services"]
NAMES = ["Tom Smith", "Anna Berg", "Ravi Patel", "Maria Lopez", "John Okafor", "Li Wei"]
FILLER = [
    "Advertisement",
    "Read more:",
    "Share this article",
    "Sign up for our daily newsletter",
    "Follow us on Twitter and Facebook",
    "Click here for the latest news",
    "Story continues below",
]
TRANSFORMS = [
    "headline",
    "dateline",
    "footer",
    "teaser",
    "filler",
    "drop",
    "reorder",
    "edits",
    "truncate",
]


@dataclass(frozen=True)
class Doc:
    """One BBC article: ``topic/NNN``, headline and body paragraphs."""

    doc_id: str
    topic: str
    title: str
    paragraphs: tuple[str, ...]


@dataclass(frozen=True)
class Item:
    """One article of the stream, the time to process it at, and what it should be judged.

    ``expected`` is ``None`` for an article that should be unique, else the set of acceptable
    ``duplicate_of`` ids. ``scored`` is False for corpus rewrites (see the module docstring).
    """

    article: CleanArticle
    now: datetime
    expected: frozenset[str] | None
    scored: bool = True
    transforms: tuple[str, ...] = ()


@dataclass
class Score:
    """Precision, recall and F1 over the scored items, and the breakdown used to tune."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    wrong_target: int = 0
    rewrites: int = 0
    rewrites_flagged: int = 0
    by_transform: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    kinds: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[str, str]] = field(default_factory=list)
    split: int = 0  # score_records: items the clean stage split into several stories
    dead_letters: int = 0  # score_records: items dead-lettered (or lost) before a dedup verdict

    @property
    def precision(self) -> float:
        """Share of predicted duplicates that are duplicates of an acceptable article."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of duplicates found, with an acceptable ``duplicate_of``."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


# ------------------------------------------------------------------------------------ corpus


def load_bbc(root: Path | None = None) -> list[Doc]:
    """Read every ``<topic>/NNN.txt`` (default: the corpora's bbc/bbc); the one non-UTF-8 file is decoded as Latin-1."""
    root = root or corpora_dir() / "bbc" / "bbc"
    if not root.is_dir():
        raise FileNotFoundError(f"BBC corpus not found at {root}")
    docs = []
    for path in sorted(root.glob("*/*.txt")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        head, _, body = text.strip().partition("\n")
        paragraphs = tuple(p.strip() for p in re.split(r"\n\s*\n", body.strip()) if p.strip())
        docs.append(
            Doc(f"{path.parent.name}/{path.stem}", path.parent.name, head.strip(), paragraphs)
        )
    return docs


def _shingles(text: str, k: int = 3) -> set[str]:
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())
    return {" ".join(words[i : i + k]) for i in range(max(1, len(words) - k + 1))}


def corpus_relations(docs: Sequence[Doc]) -> tuple[dict[str, str], set[str]]:
    """Return (cluster of each same-story article, articles in a rewrite relation).

    Exact: every pair sharing at least five 3-shingles is compared on full shingle sets.
    """
    sets = {d.doc_id: _shingles("\n".join(d.paragraphs)) for d in docs}
    postings: dict[str, list[str]] = defaultdict(list)
    for doc_id, s in sets.items():
        for sh in s:
            postings[sh].append(doc_id)
    shared: Counter[tuple[str, str]] = Counter()
    for ids in postings.values():
        if len(ids) > 1:
            shared.update(itertools.combinations(ids, 2))
    parent = {d.doc_id: d.doc_id for d in docs}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    rewrites: set[str] = set()
    for (a, b), n in shared.items():
        if n < 5:
            continue
        inter = len(sets[a] & sets[b])
        jaccard = inter / len(sets[a] | sets[b])
        containment = inter / min(len(sets[a]), len(sets[b]))
        if jaccard >= SAME_STORY_JACCARD:
            parent[find(a)] = find(b)
        elif containment >= REWRITE_CONTAINMENT:
            rewrites.update((a, b))
    clusters = {doc_id: find(doc_id) for doc_id in parent}
    return clusters, rewrites


# ------------------------------------------------------------------------------------ re-posts


def _edit_words(text: str, rate: float, rng: random.Random, vocab: Sequence[str]) -> str:
    words = text.split(" ")
    out: list[str] = []
    for w in words:
        if rng.random() >= rate or not w.strip():
            out.append(w)
            continue
        op = rng.random()
        if op < 0.5:
            out.append(rng.choice(vocab))  # substitution
        elif op < 0.75:
            continue  # deletion
        else:
            out.extend([w, rng.choice(vocab)])  # insertion
    return " ".join(out)


def make_repost(
    doc: Doc,
    transforms: Iterable[str],
    rng: random.Random,
    teasers: Sequence[str],
    vocab: Sequence[str],
) -> tuple[str, str]:
    """Return (title, text) of a re-post of ``doc`` with the given transforms applied."""
    transforms = set(transforms)
    title = doc.title
    paras = list(doc.paragraphs)
    if "drop" in transforms and len(paras) >= 4:
        for _ in range(1 if len(paras) < 8 else 2):
            del paras[rng.randrange(1, len(paras))]
    if "reorder" in transforms and len(paras) >= 3:
        i = rng.randrange(1, len(paras) - 1)
        paras[i], paras[i + 1] = paras[i + 1], paras[i]
    if "truncate" in transforms and len(paras) >= 3:
        keep = max(2, round(len(paras) * rng.uniform(0.4, 0.8)))
        paras = paras[:keep]
    if "edits" in transforms:
        rate = rng.uniform(0.02, 0.05)
        paras = [_edit_words(p, rate, rng, vocab) for p in paras]
    if "dateline" in transforms:
        city, agency = rng.choice(CITIES), rng.choice(AGENCIES)
        paras[0] = f"{city}, {rng.randint(1, 28)} March ({agency}) - {paras[0]}"
    head: list[str] = []
    if "headline" in transforms:
        prefix = rng.choice(["UPDATE 2-", "Exclusive: ", "BREAKING: ", "Analysis: ", ""])
        words = title.split()
        if len(words) > 2:
            words[rng.randrange(len(words))] = rng.choice(vocab)
        title = prefix + " ".join(words)
        head.append(title)
        head.append(
            f"By {rng.choice(NAMES)}, {rng.choice(AGENCIES)} | {rng.randint(1, 12)} hours ago"
        )
    if "teaser" in transforms:
        head.append(re.split(r"(?<=[.!?])\s", doc.paragraphs[0])[0])  # the standfirst, repeated
        paras.insert(rng.randrange(1, len(paras) + 1), "Related: " + rng.choice(teasers))
    if "filler" in transforms:
        for _ in range(rng.randint(1, 3)):
            paras.insert(rng.randrange(1, len(paras) + 1), rng.choice(FILLER))
    tail: list[str] = []
    if "footer" in transforms:
        agency = rng.choice(AGENCIES)
        tail.append(
            rng.choice(
                [
                    f"Reporting by {rng.choice(NAMES)}; Editing by {rng.choice(NAMES)}",
                    f"Additional reporting by {agency}.",
                    f"(c) 2005 {agency}. All rights reserved. This material may not be redistributed.",
                    f"Copyright {agency} 2005. Click here for reprint permission.",
                ]
            )
        )
    return title, "\n\n".join(head + paras + tail)


# ------------------------------------------------------------------------------------ stream


def build_stream(
    docs: Sequence[Doc] | None = None,
    *,
    seed: int = 7,
    per_topic: int | None = None,
    repost_rate: float = 0.3,
) -> list[Item]:
    """Build the labelled stream: the corpus (or ``per_topic`` articles of each topic) plus re-posts.

    ``repost_rate`` of the eligible articles get one re-post, a fifth of those a second one.
    Deterministic for a given ``seed``.
    """
    rng = random.Random(seed)
    docs = list(docs) if docs is not None else load_bbc()
    if per_topic is not None:
        by_topic: dict[str, list[Doc]] = defaultdict(list)
        for d in docs:
            by_topic[d.topic].append(d)
        docs = [
            d
            for t in sorted(by_topic)
            for d in rng.sample(by_topic[t], min(per_topic, len(by_topic[t])))
        ]
    clusters, rewrites = corpus_relations(docs)
    members: dict[str, set[str]] = defaultdict(set)
    for doc_id, root in clusters.items():
        members[root].add(doc_id)
    order = list(docs)
    rng.shuffle(order)
    titles_by_topic: dict[str, list[str]] = defaultdict(list)
    vocab_by_topic: dict[str, list[str]] = defaultdict(list)
    for d in docs:
        titles_by_topic[d.topic].append(d.title)
        vocab_by_topic[d.topic].extend(re.findall(r"[A-Za-z]{3,}", " ".join(d.paragraphs))[:200])

    # (position, tiebreak, item-builder): re-posts go somewhere after their original.
    slots: list[tuple[float, int, Callable[[int], Item]]] = []
    seen_cluster: set[str] = set()
    for pos, d in enumerate(order):
        cluster = clusters[d.doc_id]
        expected = frozenset(members[cluster]) if cluster in seen_cluster else None
        seen_cluster.add(cluster)
        scored = d.doc_id not in rewrites
        slots.append((pos, len(slots), _corpus_item(d, expected, scored)))
        if not scored or rng.random() >= repost_rate:
            continue
        for copy in range(1 if rng.random() >= 0.2 else 2):
            k = rng.randint(2, 4)
            transforms = tuple(sorted(rng.sample(TRANSFORMS, k)))
            title, text = make_repost(
                d, transforms, rng, titles_by_topic[d.topic], vocab_by_topic[d.topic]
            )
            at = rng.uniform(pos + 0.5, len(order))
            acceptable = frozenset(members[cluster])
            slots.append(
                (at, len(slots), _repost_item(d, copy, title, text, acceptable, transforms))
            )
    slots.sort(key=lambda s: (s[0], s[1]))
    return [build(i) for i, (_, _, build) in enumerate(slots)]


def _corpus_item(d: Doc, expected: frozenset[str] | None, scored: bool) -> Callable[[int], Item]:
    def build(i: int) -> Item:
        now = T0 + i * STEP
        article = CleanArticle(
            article_id=d.doc_id,
            title=d.title,
            source="bbc.co.uk",
            text="\n\n".join(d.paragraphs),
            ingested_at=now,
        )
        return Item(article, now, expected, scored)

    return build


def _repost_item(
    d: Doc,
    copy: int,
    title: str,
    text: str,
    acceptable: frozenset[str],
    transforms: tuple[str, ...],
) -> Callable[[int], Item]:
    def build(i: int) -> Item:
        now = T0 + i * STEP
        article = CleanArticle(
            article_id=f"{d.doc_id}#repost{copy + 1}",
            title=title,
            source="example-syndicator.com",
            text=text,
            ingested_at=now,
        )
        return Item(article, now, acceptable, True, transforms)

    return build


def score(
    items: Sequence[Item], results: Sequence[UniqueArticle | DuplicateNotice | None]
) -> Score:
    """Score the results of processing ``items`` in order (one result per item).

    A result that is not a ``DuplicateNotice`` (a ``UniqueArticle``, or ``None`` for an item that
    got no verdict) counts as "not flagged".
    """
    s = Score()
    for item, result in zip(items, results, strict=True):
        is_dup = isinstance(result, DuplicateNotice)
        if not item.scored:
            s.rewrites += 1
            s.rewrites_flagged += is_dup
            continue
        if is_dup:
            s.kinds[result.kind] += 1
        for t in item.transforms:
            s.by_transform[t][1] += 1
        if item.expected is None:
            if is_dup:
                s.fp += 1
                s.errors.append(
                    ("false_duplicate", f"{item.article.article_id} -> {result.duplicate_of}")
                )
            else:
                s.tn += 1
        elif not is_dup:
            s.fn += 1
            s.errors.append(("missed", f"{item.article.article_id} {item.transforms}"))
        elif result.duplicate_of in item.expected:
            s.tp += 1
            for t in item.transforms:
                s.by_transform[t][0] += 1
        else:
            s.fp += 1
            s.fn += 1
            s.wrong_target += 1
            s.errors.append(("wrong_target", f"{item.article.article_id} -> {result.duplicate_of}"))
    return s


# ------------------------------------------------------------------------------------ pipeline runs


def raw_record(item: Item) -> dict[str, str]:
    """The raw-article input for one item: its id and its text (title not given, as scraped)."""
    return {"id": item.article.article_id, "text": item.article.text}


def write_stream_jsonl(items: Sequence[Item], path: Path) -> Path:
    """Write the stream as ``newswatch process`` input: one ``{"id", "text"}`` line per item."""
    with path.open("w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(raw_record(item), ensure_ascii=False) + "\n")
    return path


def _input_id(record_id: str, known: set[str]) -> str:
    """The item id a record belongs to: a story split from item ``x`` is ``x-<n>``."""
    if record_id in known:
        return record_id
    base, dash, part = record_id.rpartition("-")
    return base if dash and part.isdigit() and base in known else record_id


def _dead_letter_id(value: dict) -> str | None:
    """The item id inside a dead letter's original bytes (raw ``id`` or clean ``article_id``)."""
    try:
        original = json.loads(base64.b64decode(value.get("original_b64") or ""))
    except (ValueError, TypeError):
        return None
    if not isinstance(original, dict):
        return None
    return original.get("id") or original.get("article_id")


def score_records(items: Sequence[Item], records: Iterable[dict]) -> Score:
    """Score pipeline output records (``{"kind", "value"}``, as ``newswatch process`` prints them).

    Records map to items by ``article_id`` (a story the clean stage split from item ``x`` is
    ``x-<n>``; ``duplicate_of`` is mapped the same way). An item counts as flagged when every
    story of it got a ``duplicate`` record, with the first one's ``duplicate_of`` as its target;
    an item with any ``unique`` story was published, so it is "not flagged". Items with no
    verdict at all (dead-lettered or lost) count as not flagged and in ``Score.dead_letters``.
    The first record per ``article_id`` wins (an at-least-once replay may repeat one).
    """
    known = {item.article.article_id for item in items}
    verdicts: dict[str, dict[str, dict]] = defaultdict(dict)  # item id -> story id -> record
    dead: set[str] = set()
    for record in records:
        value = record["value"]
        if record["kind"] in ("unique", "duplicate"):
            story = value["article_id"]
            verdicts[_input_id(story, known)].setdefault(story, record)
        elif record["kind"] == "dead_letter":
            dead_id = _dead_letter_id(value)
            if dead_id is not None:
                dead.add(_input_id(dead_id, known))
    results: list[DuplicateNotice | None] = []
    split = lost = 0
    for item in items:
        stories = verdicts.get(item.article.article_id, {})
        split += len(stories) > 1
        if not stories:
            lost += 1
            results.append(None)
            continue
        values = [r["value"] for r in stories.values()]
        if all(r["kind"] == "duplicate" for r in stories.values()):
            first = values[0]
            notice = DuplicateNotice.model_validate(
                {**first, "duplicate_of": _input_id(first["duplicate_of"], known)}
            )
            results.append(notice)
        else:
            results.append(None)
    s = score(items, results)
    s.split = split
    s.dead_letters = lost
    unexplained = lost - len(dead & known)
    if unexplained > 0:
        s.errors.append(("no_record", f"{unexplained} items got no record at all"))
    return s
