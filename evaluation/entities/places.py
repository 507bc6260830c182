"""How right the countries are: the entities stage's country codes against hand labels (``places_gold.csv``).

Run from the repository root (reads the corpora's bbc/ and reuters21578/, ``NEWS_CORPORA_DIR``;
the real model):

    .venv/bin/python -m evaluation.entities.places

Two figures, each with its 95% interval: precision (codes given that are right) and coverage
(labelled codes the stage gives); floors just under the figures measured (precision 0.986,
coverage 0.874 after the two bugs the first look showed were fixed: README.md). Exits 1 when one
falls under its floor, when the set breaks its own rules (each mention once, codes ISO 3166-1
alpha-2, "-" or "?"), or when more than a tenth of the labelled spans are no longer the stage's
spans (the NER changed: the set needs redrawing).
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import UTC, datetime
from pathlib import Path

from evaluation.alerts.labelled import read_reuters_bodies
from evaluation.articles import split_sentences
from evaluation.figures import Floors, share
from evaluation.settings import corpus
from services.entities.extract import extract_entities_batch
from services.entities.pipeline import load_nlp
from services.entities.settings import EntitiesSettings
from shared.schemas.articles import UniqueArticle

GOLD = Path(__file__).resolve().parent / "places_gold.csv"
MIN_PRECISION, MIN_COVERAGE = 0.96, 0.85  # just under the figures measured
NOW = datetime(2024, 1, 1, tzinfo=UTC)


def check_set(gold: list[dict[str, str]], floors: Floors) -> None:
    print("the set")
    floors.holds(
        "columns source,article,start,end,country,kind",
        list(gold[0]) == ["source", "article", "start", "end", "country", "kind"],
    )
    keys = [(r["source"], r["article"], r["start"], r["end"]) for r in gold]
    floors.holds("each mention once", len(set(keys)) == len(keys))
    floors.holds(
        "sources bbc and reuters-body", {r["source"] for r in gold} == {"bbc", "reuters-body"}
    )
    odd = [
        r
        for r in gold
        if not (r["country"] in ("-", "?") or (len(r["country"]) == 2 and r["country"].isupper()))
    ]
    floors.holds("labels: an alpha-2 code, '-' or '?'", not odd, odd[:5])
    floors.holds("spans: start < end", all(int(r["start"]) < int(r["end"]) for r in gold))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    floors = Floors()
    with GOLD.open(encoding="utf-8") as f:
        gold = list(csv.DictReader(f))
    check_set(gold, floors)
    reuters = read_reuters_bodies(corpus("reuters21578"))
    bbc = corpus("bbc", "bbc")
    nlp = load_nlp(EntitiesSettings().entities_spacy_model)

    by_article: dict[tuple[str, str], list[dict[str, str]]] = {}
    for row in gold:
        by_article.setdefault((row["source"], row["article"]), []).append(row)
    given = right = coded = found = 0
    wrong, gone = [], []
    for (source, ref), rows in by_article.items():
        if source == "bbc":  # the body, without its headline line, whitespace collapsed
            text = " ".join(
                (bbc / ref).read_bytes().decode("utf-8", "replace").partition("\n")[2].split()
            )
        else:
            text = reuters[ref]
        article = UniqueArticle(
            article_id=f"{source}:{ref}",
            text=text,
            ingested_at=NOW,
            sentences=split_sentences(text),
            language="en",
        )
        entities = {(e.start, e.end): e for e in extract_entities_batch([article], nlp)[0].entities}
        for row in rows:
            span = (int(row["start"]), int(row["end"]))
            entity = entities.get(span)
            if entity is None:
                gone.append(f"{source}:{ref}:{span}")  # no longer one of the stage's spans
            label = row["country"]
            ours = entity.country if entity is not None else None
            if label == "?":
                continue
            if ours is not None:
                given += 1
                right += ours == label
                if ours != label:
                    wrong.append(f"{text[span[0] : span[1]]!r}: {ours} (labelled {label})")
            if label != "-":
                coded += 1
                found += ours == label
    print(
        f"countries: precision {share(right, given)}, coverage {share(found, coded)}; spans gone {len(gone)}"
    )
    print(f"  wrong: {wrong}")
    floors.at_least("precision", right / given, MIN_PRECISION)
    floors.at_least("coverage", found / coded, MIN_COVERAGE)
    # The sample is the stage's own spans: if many are gone, the NER changed and the set needs redrawing.
    floors.holds("at most a tenth of the labelled spans gone", len(gone) <= len(gold) // 10, gone)
    return floors.exit_code()


if __name__ == "__main__":
    sys.exit(main())
