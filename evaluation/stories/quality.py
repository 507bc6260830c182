"""Stories against labelled groupings: BCubed precision, recall and F1, the stories core against single-pass TF-IDF by the same scorer.

Sets (ids and labels only here; text from the corpora folder, ``NEWS_CORPORA_DIR``):

- ``uci-tune`` / ``uci-held``: the UCI News Aggregator headlines (../shared/data/uci-news-clusters,
  6,366 with a timestamp, 88 stories), split by story (md5 of the story id, even: tune); each half
  taken in time order. Thresholds are chosen on ``uci-tune`` only.
- ``gold`` (``gold-tune``, ``gold-held``: split by story as UCI is): 478 BBC and Reuters-21578 articles grouped into 165 stories by a reader before any
  clusterer ran on them (``stories_gold.csv``, ``GOLD.md``); Reuters in wire order with its dates,
  BBC (undated) in file order. Scoring it is a look: count it in README.md.
- ``fresh``: 440 other BBC and Reuters-21578 articles in 184 stories, labelled the same way by
  another reader after the model was settled (``stories_fresh.csv``, ``FRESH.md``), whole.
  Scoring it is a look too.

Each item goes through the real entities stage, then the core with the packaged embedder.

    .venv/bin/python -m evaluation.stories.quality --sets uci-tune,gold-tune  # the shipped settings
    .venv/bin/python -m evaluation.stories.quality --thresholds 0.3,0.5,0.7   # a grid

The weights are learned by ``fit.py`` (tuning halves only).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from evaluation.articles import split_sentences
from evaluation.settings import corpora_dir
from services.entities.extract import extract_entities_batch
from services.entities.pipeline import load_nlp
from services.stories.core import StoryClusterer, Weights, story_text
from services.stories.handler import embedder_for
from services.stories.settings import StoriesSettings
from shared.embed import SentenceEmbedder
from shared.schemas import EnrichedArticle, UniqueArticle

HERE = Path(__file__).resolve().parent
GOLD = HERE / "stories_gold.csv"
FRESH = HERE / "stories_fresh.csv"
BBC_TIME = datetime(2005, 1, 1, tzinfo=UTC)


def _per_item(
    predicted: Sequence[str], gold: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, list[list[int]]]:
    """Each item's BCubed precision and recall in the clustering, and the items of each labelled story."""
    by_pred: dict[str, set[int]] = defaultdict(set)
    by_gold: dict[str, list[int]] = defaultdict(list)
    for i, (p, g) in enumerate(zip(predicted, gold, strict=True)):
        by_pred[p].add(i)
        by_gold[g].append(i)
    members = {g: set(items) for g, items in by_gold.items()}
    shared = [len(by_pred[p] & members[g]) for p, g in zip(predicted, gold, strict=True)]
    precision = np.array([n / len(by_pred[p]) for n, p in zip(shared, predicted, strict=True)])
    recall = np.array([n / len(members[g]) for n, g in zip(shared, gold, strict=True)])
    return precision, recall, list(by_gold.values())


def bcubed(predicted: Sequence[str], gold: Sequence[str]) -> tuple[float, float, float]:
    """BCubed precision, recall and F1 (Bagga and Baldwin 1998; Amigó et al. 2009) of a clustering."""
    per_precision, per_recall, _ = _per_item(predicted, gold)
    precision, recall = float(per_precision.mean()), float(per_recall.mean())
    return precision, recall, 2 * precision * recall / (precision + recall)


def bcubed_interval(
    predicted: Sequence[str], gold: Sequence[str], draws: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """A 95% interval of the BCubed F1: the labelled stories resampled with replacement.

    Each item keeps the precision and recall it has in the whole clustering; a draw averages those
    of the items of its stories. Stories, not items, are drawn: items of one story are not
    independent.
    """
    precision, recall, stories = _per_item(predicted, gold)
    rng = np.random.default_rng(seed)
    f1 = []
    for _ in range(draws):
        items = np.concatenate([stories[k] for k in rng.integers(0, len(stories), len(stories))])
        p, r = precision[items].mean(), recall[items].mean()
        f1.append(2 * p * r / (p + r) if p + r else 0.0)
    low, high = np.percentile(f1, [2.5, 97.5])
    return float(low), float(high)


def tfidf_single_pass(texts: Sequence[str], threshold: float) -> list[str]:
    """The baseline: each text joins the most similar earlier cluster's centroid (TF-IDF cosine) at ``threshold``, else opens one.

    The vocabulary and IDF come from the whole set (an advantage an online system does not have).
    """
    vectors = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(texts)
    dense = vectors.toarray().astype(np.float32)
    sums: list[np.ndarray] = []
    labels: list[str] = []
    for v in dense:
        if sums:
            centroids = np.vstack(sums)
            norms = np.maximum(np.linalg.norm(centroids, axis=1), 1e-12)
            scores = centroids @ v / norms
            best = int(scores.argmax())
            if scores[best] >= threshold:
                sums[best] = sums[best] + v
                labels.append(str(best))
                continue
        sums.append(v.copy())
        labels.append(str(len(sums) - 1))
    return labels


def uci_items(half: str) -> tuple[list[UniqueArticle], list[str]]:
    """One half of the UCI headlines (by story: ``tune``, ``held``) or ``all``, as articles in time order, with their stories."""
    path = corpora_dir() / "uci-news-clusters" / "uci-news-aggregator.head6367.csv"
    with path.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r.get("TIMESTAMP")]
    rows.sort(key=lambda r: (int(r["TIMESTAMP"]), int(r["ID"])))
    if half != "all":
        keep = 0 if half == "tune" else 1
        rows = [r for r in rows if hashlib.md5(r["STORY"].encode()).digest()[0] % 2 == keep]
    articles = [
        UniqueArticle(
            article_id=f"uci:{r['ID']}",
            title=r["TITLE"],
            text=r["TITLE"],
            source=r["HOSTNAME"],
            ingested_at=datetime.fromtimestamp(int(r["TIMESTAMP"]) / 1000, UTC),
            sentences=[],
            language="en",
        )
        for r in rows
    ]
    return articles, [r["STORY"] for r in rows]


def gold_items(
    half: str | None = None, labels: Path = GOLD
) -> tuple[list[UniqueArticle], list[str]]:
    """The labelled BBC and Reuters articles (one half by story, or all), Reuters by date then NEWID, then BBC in file order."""
    data = corpora_dir()
    with labels.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if half is not None:
        keep = 0 if half == "tune" else 1
        rows = [r for r in rows if hashlib.md5(r["story"].encode()).digest()[0] % 2 == keep]
    wires = read_reuters({r["ref"] for r in rows if r["source"] == "reuters"}, data)
    items: list[tuple[datetime, str, UniqueArticle, str]] = []
    for row in rows:
        if row["source"] == "bbc":
            raw_bytes = (data / "bbc" / "bbc" / row["ref"]).read_bytes()
            try:
                raw = raw_bytes.decode("utf-8")
            except UnicodeDecodeError:  # sport/199.txt: its pound sign is latin-1
                raw = raw_bytes.decode("latin-1")
            title, _, body = raw.partition("\n")
            when, source = BBC_TIME, "bbc.co.uk"
        else:
            title, body, when = wires[row["ref"]]
            source = "reuters.com"
        text = "\n\n".join(" ".join(p.split()) for p in body.split("\n\n") if p.strip())
        article = UniqueArticle(
            article_id=f"{row['source']}:{row['ref']}",
            title=title.strip(),
            text=text,
            source=source,
            ingested_at=when,
            sentences=split_sentences(text),
            language="en",
        )
        items.append((when, row["ref"].zfill(8), article, row["story"]))
    items.sort(key=lambda x: (x[0], x[1]))
    return [x[2] for x in items], [x[3] for x in items]


def read_reuters(newids: set[str] | None, data: Path) -> dict[str, tuple[str, str, datetime]]:
    """Title, body and date of the wanted Reuters-21578 stories, every one if ``newids`` is None (SGML read with string methods)."""
    found: dict[str, tuple[str, str, datetime]] = {}
    for path in sorted((data / "reuters21578").glob("*.sgm")):
        for chunk in path.read_bytes().decode("latin-1").split("<REUTERS ")[1:]:
            newid = chunk.split('NEWID="', 1)[1].split('"', 1)[0]
            if newids is not None and newid not in newids:
                continue

            def tag(name: str, text: str = chunk) -> str:
                if f"<{name}>" not in text:
                    return ""
                return text.split(f"<{name}>", 1)[1].split(f"</{name}>", 1)[0]

            body = tag("BODY").replace("&lt;", "<").replace("&amp;", "&").replace("\x03", "")
            try:
                date = datetime.strptime(tag("DATE").strip().split(".")[0], "%d-%b-%Y %H:%M:%S")
            except ValueError:  # a few wires' dates are garbled ("605:12:19"): left out
                continue
            found[newid] = (tag("TITLE").replace("&lt;", "<"), body, date.replace(tzinfo=UTC))
    return found


def cluster(
    articles: Sequence[EnrichedArticle],
    vectors: np.ndarray,
    *,
    threshold: float,
    weights: Weights | None = None,
    brief_weights: Weights | None = None,
    store: dict | None = None,
) -> list[str]:
    """The stories core over the articles in order, as the stage runs it (the shipped weights unless given)."""
    shipped = StoriesSettings()
    clusterer = StoryClusterer(
        {} if store is None else store,
        window=shipped.window,
        single_window=shipped.single_window,
        threshold=threshold,
        weights=weights or shipped.stories_weights,
        brief_weights=brief_weights or shipped.stories_brief_weights,
    )
    return [clusterer.assign(a, v).story_id for a, v in zip(articles, vectors, strict=True)]


def bytes_per_article(store: dict, articles: int) -> float:
    """The store's size per article: every value as JSON (keys not counted), over the articles."""
    return sum(len(json.dumps(v)) for v in store.values()) / articles


def enrich(
    name: str, nlp: Any, embed: SentenceEmbedder
) -> tuple[list[EnrichedArticle], np.ndarray, list[str]]:
    """A set's articles through the entities stage, their embeddings and their stories."""
    if name == "fresh":
        items, gold = gold_items(labels=FRESH)
    elif name.startswith("gold"):
        items, gold = gold_items(name.removeprefix("gold").removeprefix("-") or None)
    else:
        items, gold = uci_items(name.removeprefix("uci").removeprefix("-") or "all")
    enriched = extract_entities_batch(items, nlp, batch_size=32)
    return enriched, embed([story_text(a) for a in enriched]), gold


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sets",
        default="uci-tune",
        help="uci, uci-tune, uci-held, gold, gold-tune, gold-held, fresh",
    )
    parser.add_argument("--thresholds", help="comma-separated (default: the shipped one)")
    parser.add_argument("--tfidf", default="0.2,0.3,0.4,0.5", help="baseline thresholds")
    args = parser.parse_args(argv)
    shipped = StoriesSettings()
    thresholds = [float(t) for t in (args.thresholds or str(shipped.stories_threshold)).split(",")]
    nlp, embed = (
        load_nlp("en_core_web_sm"),
        embedder_for(shipped, threads=2),
    )
    for name in args.sets.split(","):
        enriched, vectors, gold = enrich(name, nlp, embed)
        print(f"{name}: {len(gold)} articles, {len(set(gold))} stories")
        for t in thresholds:
            store: dict = {}
            labels = cluster(enriched, vectors, threshold=t, store=store)
            p, r, f = bcubed(labels, gold)
            low, high = bcubed_interval(labels, gold)
            size = bytes_per_article(store, len(gold))
            print(
                f"  stories t={t:.2f}: P {p:.3f} R {r:.3f} F1 {f:.3f} [{low:.3f}, {high:.3f}]"
                f"  ({size:.0f} B/article)"
            )
        texts = [story_text(a) for a in enriched]
        for t in [float(x) for x in args.tfidf.split(",")]:
            labels = tfidf_single_pass(texts, t)
            p, r, f = bcubed(labels, gold)
            low, high = bcubed_interval(labels, gold)
            print(
                f"  tf-idf single pass t={t:.2f}: P {p:.3f} R {r:.3f} F1 {f:.3f} [{low:.3f}, {high:.3f}]"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
