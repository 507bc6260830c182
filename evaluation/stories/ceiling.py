"""How far the stories' signals can go: an offline grouping with every advantage, scored by the same BCubed.

    .venv/bin/python -m evaluation.stories.ceiling                 # all 6,366 UCI headlines
    .venv/bin/python -m evaluation.stories.ceiling --sets uci,gold

Not a score of the stage but a bound on any grouping by its text signals: every article is
compared with every other at once (no arrival order, no window), the TF-IDF weights come from the
whole set, and the cut of the dendrogram is the one that scores best against the labels
themselves. The similarity is a blend of the stage's embedding cosine (its model and settings:
``services/stories/handler.py``) and the TF-IDF cosine of the same title and lead; average
linkage (UPGMA), the best-scoring of the linkages tried when this was written (complete, Ward,
weighted and centroid scored lower on UCI). ``fresh`` is not offered: scoring it is a look.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.feature_extraction.text import TfidfVectorizer

from evaluation.stories.quality import bcubed, bcubed_interval, enrich
from services.entities.pipeline import load_nlp
from services.stories.core import story_text
from services.stories.handler import embedder_for
from services.stories.settings import StoriesSettings

BLENDS = (1.0, 0.8, 0.6, 0.4)  # the embedding's share of the similarity; TF-IDF has the rest
CUTS = np.round(np.arange(0.20, 1.30, 0.05), 2)  # distances (1 - similarity) to cut at


def best_cut(
    similarity: np.ndarray, gold: Sequence[str], cuts: Sequence[float] = tuple(CUTS)
) -> tuple[float, float, list[str]]:
    """The average-linkage grouping of the items at the cut that scores best on ``gold``: (cut, F1, labels)."""
    distance = np.clip(1.0 - similarity, 0.0, 2.0)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    best: tuple[float, float, list[str]] = (0.0, -1.0, [])
    for cut in cuts:
        labels = [str(x) for x in fcluster(tree, cut, criterion="distance")]
        f1 = bcubed(labels, gold)[2]
        if f1 > best[1]:
            best = (float(cut), f1, labels)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sets", default="uci", help="uci, uci-tune, uci-held, gold, gold-tune, gold-held"
    )
    args = parser.parse_args(argv)
    shipped = StoriesSettings()
    nlp, embed = load_nlp("en_core_web_sm"), embedder_for(shipped, threads=2)
    for name in args.sets.split(","):
        if name.startswith("fresh"):
            raise SystemExit("fresh is held out: a ceiling read on it is a look")
        enriched, vectors, gold = enrich(name, nlp, embed)
        texts = [story_text(a) for a in enriched]
        terms = TfidfVectorizer(sublinear_tf=True, stop_words="english").fit_transform(texts)
        by_embedding = (vectors @ vectors.T).astype(np.float32)
        by_terms = (terms @ terms.T).toarray().astype(np.float32)
        print(
            f"{name}: {len(gold)} articles, {len(set(gold))} stories (offline, cut chosen on the labels)"
        )
        for share in BLENDS:
            cut, f1, labels = best_cut(share * by_embedding + (1 - share) * by_terms, gold)
            p, r, _ = bcubed(labels, gold)
            low, high = bcubed_interval(labels, gold)
            print(
                f"  embedding {share:.1f} / tf-idf {1 - share:.1f}, cut {cut:.2f}: "
                f"P {p:.3f} R {r:.3f} F1 {f1:.3f} [{low:.3f}, {high:.3f}]"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
