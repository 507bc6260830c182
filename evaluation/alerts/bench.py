"""Benchmark of the alerts stage: articles/second of the alerts core (parse of candidate sentences included) on enriched BBC articles, and the share of sentences parsed.

Run from the repository root (part of ``make bench``):

    .venv/bin/python -m evaluation.alerts.bench [--articles 100] [--data DIR]

``--data``: the corpora folder, default ``NEWS_CORPORA_DIR`` (``evaluation/settings.py``).

A fixed random sample of BBC articles (title = the first line) goes through the entities stage
once (not timed), then through ``services.alerts.evaluate.evaluate_counted`` with the shipped rules:
what the alerts handler does per message. For scale, the same articles with every sentence
parsed (as if the rules had no ``candidates`` test) are timed too.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

from evaluation.articles import split_sentences
from evaluation.settings import corpora_dir
from services.alerts.compile import load_rules
from services.alerts.evaluate import evaluate, evaluate_counted, make_parser
from services.alerts.handler import load_nlp
from services.entities.extract import extract_entities_batch
from services.entities.pipeline import load_nlp as load_entities_nlp
from shared.embed import SentenceEmbedder
from shared.schemas.articles import UniqueArticle

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument(
        "--data", type=Path, default=None, help="the corpora folder (default: NEWS_CORPORA_DIR)"
    )
    args = parser.parse_args()
    args.data = args.data or corpora_dir()
    warnings.filterwarnings("ignore")
    paths = sorted((args.data / "bbc" / "bbc").glob("*/*.txt"))
    sample = random.Random(20240101).sample(paths, min(args.articles, len(paths)))
    entities_nlp = load_entities_nlp("en_core_web_sm")
    enriched = []
    for p in sample:
        title, _, body = p.read_bytes().decode("utf-8", "replace").partition("\n")
        body = body.strip()
        unique = UniqueArticle(
            article_id=p.name,
            title=title.strip(),
            text=body,
            ingested_at=NOW,
            sentences=split_sentences(body),
        )
        enriched.append(extract_entities_batch([unique], entities_nlp)[0])
    nlp = load_nlp("en_core_web_sm")
    rules = load_rules(vocab=nlp.vocab, embed=SentenceEmbedder())
    parse = make_parser(nlp)
    evaluate(enriched[0], rules, parse, fired_at=NOW)  # warm-up

    t0 = time.perf_counter()
    results = [evaluate_counted(a, rules, parse, fired_at=NOW) for a in enriched]
    took = time.perf_counter() - t0
    sentences = sum(r.sentences for r in results)
    parsed = sum(r.parsed for r in results)
    scored = sum(r.scored for r in results)
    alerts = sum(len(r.alerts) for r in results)
    print(
        f"BBC sample: {len(enriched)} articles, {sentences / len(enriched):.1f} sentences/article (title included)"
    )
    print(
        f"  alerts core      : {len(enriched) / took:7.1f} articles/s, {parsed}/{sentences} sentences parsed "
        f"({100 * parsed / sentences:.1f} %), {scored} (sentence, rule) pairs scored by a "
        f"classifier, {alerts} alerts"
    )
    texts = [s.text for a in enriched for s in a.sentences][:2000]
    embed = SentenceEmbedder()
    t0 = time.perf_counter()
    embed(texts)
    print(
        f"  sentence embedder: {len(texts) / (time.perf_counter() - t0):7.1f} sentences/s (1 thread)"
    )

    t0 = time.perf_counter()
    for a in enriched:
        texts = [a.title or "", *(s.text for s in a.sentences)]
        parse(texts, [True] + [False] * (len(texts) - 1))
    every = time.perf_counter() - t0
    print(
        f"  parse everything : {len(enriched) / every:7.1f} articles/s (for scale: no candidates test)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
