"""Benchmark of the entities stage: articles/second with the real model, domain-entity quality on re3d.

Not a test (pytest does not collect it). Run from the repository root:

    .venv/bin/python tests/bench/bench_entities.py [--articles 200] [--data ../shared/data]

Throughput: a fixed random sample of BBC articles, each turned into a UniqueArticle (sentences
from a simple splitter, as dedup would give), through ``extract_entities`` one by one (what the
service does per message) and through ``extract_entities_many`` (batched ``nlp.pipe``).

Quality: every re3d document through the same pipeline; our domain spans (AIRCRAFT, WEAPON,
VESSEL) scored against re3d's gold Weapon + MilitaryPlatform spans by character overlap, and
MILITARY_UNIT spans against gold Organisation spans (precision only: re3d has no unit label).
re3d annotates many generic nouns ("aircraft", "strikes", "vehicles") that a gazetteer of named
systems is not meant to find, so recall is also given for the "named" gold spans only (those
with a capital letter or a digit, e.g. "KC-135R", "HMS Ocean", "VBIED").
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from services.entities.core import extract_entities, extract_entities_many, load_nlp
from shared.schemas.articles import UniqueArticle
from tests.factories import split_sentences

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def make_article(article_id: str, text: str) -> UniqueArticle:
    """A unique article segmented as dedup segments it."""
    return UniqueArticle(article_id=article_id, text=text, ingested_at=NOW, sentences=split_sentences(text))


def bench_throughput(nlp, data: Path, n: int) -> None:
    paths = sorted((data / "bbc" / "bbc").glob("*/*.txt"))
    sample = random.Random(20240101).sample(paths, min(n, len(paths)))
    articles = [
        make_article(str(p.relative_to(data)), p.read_bytes().decode("utf-8", "replace"))
        for p in sample
    ]
    chars = sum(len(a.text) for a in articles)
    extract_entities(articles[0], nlp)  # warm-up
    t0 = time.perf_counter()
    n_ents = sum(len(extract_entities(a, nlp).entities) for a in articles)
    one = time.perf_counter() - t0
    t0 = time.perf_counter()
    list(extract_entities_many(articles, nlp, batch_size=32))
    many = time.perf_counter() - t0
    print(
        f"BBC sample: {len(articles)} articles, {chars / len(articles):.0f} chars/article, "
        f"{n_ents / len(articles):.1f} entities/article"
    )
    print(
        f"  one by one : {len(articles) / one:7.1f} articles/s  ({chars / one / 1000:.0f} kchar/s)"
    )
    print(
        f"  nlp.pipe   : {len(articles) / many:7.1f} articles/s  ({chars / many / 1000:.0f} kchar/s)"
    )


def _json_lines(path: Path) -> list[dict]:
    return [
        json.loads(line)
        for line in path.read_text(encoding="utf-8-sig").splitlines()
        if line.strip()
    ]


def _overlaps(a: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(a[0] < e and s < a[1] for s, e in spans)


def bench_re3d(nlp, data: Path) -> None:
    gold_platform: dict[str, list[tuple[int, int, str]]] = {}
    gold_org: dict[str, list[tuple[int, int]]] = {}
    docs: dict[str, str] = {}
    for folder in sorted((data / "re3d").iterdir()):
        if not (folder / "documents.json").exists():
            continue
        for d in _json_lines(folder / "documents.json"):
            docs[d["_id"]] = d["text"]
        for e in _json_lines(folder / "entities.json"):
            if e["type"] in ("Weapon", "MilitaryPlatform"):
                gold_platform.setdefault(e["documentId"], []).append(
                    (e["begin"], e["end"], e["value"])
                )
            elif e["type"] == "Organisation":
                gold_org.setdefault(e["documentId"], []).append((e["begin"], e["end"]))
    pred_n = pred_ok = unit_n = unit_ok = 0
    gold_n = gold_hit = named_n = named_hit = 0
    misses: list[str] = []
    wrong: list[str] = []
    for doc_id, text in docs.items():
        enriched = extract_entities(make_article(doc_id, text), nlp)
        platform = [
            (e.start, e.end)
            for e in enriched.entities
            if e.label in ("AIRCRAFT", "WEAPON", "VESSEL")
        ]
        units = [(e.start, e.end) for e in enriched.entities if e.label == "MILITARY_UNIT"]
        gold = gold_platform.get(doc_id, [])
        gspans = [(s, e) for s, e, _ in gold]
        for span in platform:
            pred_n += 1
            if _overlaps(span, gspans):
                pred_ok += 1
            else:
                wrong.append(text[span[0] : span[1]])
        for span in units:
            unit_n += 1
            unit_ok += _overlaps(span, gold_org.get(doc_id, []))
        for s, e, value in gold:
            named = (
                bool(re.search(r"[A-Z0-9]", value))
                and not value.istitle()
                or bool(re.search(r"\d|[A-Z]{2}", value))
            )
            hit = _overlaps((s, e), platform)
            gold_n += 1
            gold_hit += hit
            named_n += named
            named_hit += named and hit
            if named and not hit:
                misses.append(value)
    print(
        f"re3d: {len(docs)} documents, {gold_n} gold Weapon/MilitaryPlatform spans ({named_n} named)"
    )
    print(f"  AIRCRAFT/WEAPON/VESSEL precision {pred_ok}/{pred_n} = {pred_ok / max(pred_n, 1):.3f}")
    print(
        f"  recall, all gold spans           {gold_hit}/{gold_n} = {gold_hit / max(gold_n, 1):.3f}"
    )
    print(
        f"  recall, named gold spans         {named_hit}/{named_n} = {named_hit / max(named_n, 1):.3f}"
    )
    print(
        f"  MILITARY_UNIT inside a gold Organisation: {unit_ok}/{unit_n} = {unit_ok / max(unit_n, 1):.3f}"
    )
    print(f"  named misses: {sorted(set(misses))}")
    print(f"  predictions outside gold: {sorted(set(wrong))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    t0 = time.perf_counter()
    nlp = load_nlp()
    print(f"model loaded in {time.perf_counter() - t0:.1f}s: pipes {nlp.pipe_names}")
    bench_throughput(nlp, args.data, args.articles)
    bench_re3d(nlp, args.data)


if __name__ == "__main__":
    main()
