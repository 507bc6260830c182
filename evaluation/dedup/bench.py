"""Dedup benchmark: consumes the BBC corpus (the corpora's bbc/, ``NEWS_CORPORA_DIR``) plus synthetic re-posts; prints quality and cost.

Run:  .venv/bin/python -m evaluation.dedup.bench [--per-topic N] [--seed S] [--explain] [--no-cli]

Prints precision, recall and F1 of ``Deduplicator.process`` on the labelled stream built by
``evaluation.dedup.corpus.build_stream`` (see its docstring for the labels), the articles per second of
``process`` alone, and the bytes of store per indexed article (JSON keys + values, what a faust
changelog holds). ``--explain`` also prints, for every scored article, the best candidate scores,
which is how the thresholds were chosen.

Then the same stream through the real CLI, ``python -m cli.main process --until dedup
stream.jsonl`` as a subprocess: one ``{"id", "text"}`` JSON line per item, in stream order, so
the clean stage runs first on the text (as in production) and may strip headline, dateline or
footer lines before dedup sees it. Its ``unique``/``duplicate`` records are scored against the
same labels (``corpus.score_records``); articles/second there is end to end (clean + dedup,
JSON in and out, interpreter and model start-up included).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evaluation.dedup.corpus import (
    Item,
    Score,
    build_stream,
    score,
    score_records,
    write_stream_jsonl,
)
from evaluation.settings import REPO
from services.dedup.core import Deduplicator
from services.dedup.settings import DedupSettings


def new_deduplicator(store: dict, **params: object) -> Deduplicator:
    """A Deduplicator with the service's window and eviction settings (NEWS_DEDUP_*, else defaults)."""
    settings = DedupSettings()
    return Deduplicator(
        store,
        window=settings.window,
        evict_every=settings.evict_every,
        **params,  # type: ignore[arg-type]
    )


def store_bytes(store: dict) -> int:
    """Bytes of the store as a changelog would carry it: JSON key plus JSON value per entry."""
    return sum(
        len(json.dumps(k)) + len(json.dumps(v, separators=(",", ":"))) for k, v in store.items()
    )


def run(items: list[Item], **params: object) -> tuple[list, float, dict]:
    """Process the stream with a fresh dict store; return results, seconds in process, store."""
    store: dict = {}
    dedup = new_deduplicator(store, **params)
    dedup.process(items[0].article, now=items[0].now)  # warm up spaCy outside the timing
    store.clear()
    dedup = new_deduplicator(store, **params)
    results = []
    start = time.perf_counter()
    for item in items:
        results.append(dedup.process(item.article, now=item.now))
    return results, time.perf_counter() - start, store


def run_cli(items: list[Item]) -> tuple[Score, float, dict[str, int]]:
    """The stream through ``python -m cli.main process --until dedup``; score, seconds, kinds."""
    with tempfile.TemporaryDirectory(prefix="bench-dedup-cli-") as tmp:
        path = write_stream_jsonl(items, Path(tmp) / "stream.jsonl")
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "cli.main", "process", "--until", "dedup", str(path)],
            cwd=REPO,
            capture_output=True,
            check=False,
        )
        seconds = time.perf_counter() - start
    if done.returncode:
        raise RuntimeError(
            f"newswatch process exited with {done.returncode}:\n"
            + done.stderr.decode("utf-8", "replace")[-3000:]
        )
    records = [json.loads(line) for line in done.stdout.decode("utf-8").splitlines() if line]
    kinds: dict[str, int] = {}
    for record in records:
        kinds[record["kind"]] = kinds.get(record["kind"], 0) + 1
    return score_records(items, records), seconds, kinds


def print_score(s: Score) -> None:
    """Precision, recall, F1 and the breakdown of one scored run."""
    print(
        f"scored: {s.tp + s.fn} duplicates, {s.tn + s.fp} unique; {s.rewrites} corpus rewrites unscored"
    )
    print(
        f"precision {s.precision:.4f}  recall {s.recall:.4f}  F1 {s.f1:.4f}  (tp {s.tp} fp {s.fp} fn {s.fn}, wrong target {s.wrong_target})"
    )
    print(
        f"kinds: {dict(s.kinds)}; corpus rewrites flagged as duplicates: {s.rewrites_flagged}/{s.rewrites}"
    )
    print(
        "recall by transform: "
        + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(s.by_transform.items()))
    )


def explain(items: list[Item], **params: object) -> None:
    """Print the best candidate scores of every scored item (before it is processed)."""
    store: dict = {}
    dedup = new_deduplicator(store, **params)
    rows = []
    for item in items:
        matches = dedup.explain(item.article, now=item.now) if store else []
        if item.scored:
            if item.expected is None:
                m = matches[0] if matches else None
                label = "uniq"
            else:
                good = [m for m in matches if m.article_id in item.expected]
                m = good[0] if good else None
                label = "dup "
            if m is not None:
                rows.append((label, m.jaccard, m.containment, m.sentence_containment, item))
            elif label == "dup ":
                rows.append((label, 0.0, 0.0, 0.0, item))
        dedup.process(item.article, now=item.now)
    rows.sort(key=lambda r: (r[0], max(r[1], r[2], r[3])))
    for label, j, c, sc, item in rows:
        if (label == "uniq" and max(j, c, sc) >= 0.2) or (
            label == "dup " and min(max(j, c, sc), j) < 0.7
        ):
            print(
                f"{label} J={j:.3f} C={c:.3f} S={sc:.3f} {item.article.article_id} {item.transforms}"
            )


def main() -> None:
    """Build the benchmark, run it, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-topic", type=int, default=None, help="sample N articles per topic")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--explain", action="store_true")
    ap.add_argument("--errors", action="store_true", help="list every error")
    ap.add_argument(
        "--no-cli", action="store_true", help="skip the run through `newswatch process`"
    )
    args = ap.parse_args()

    t = time.perf_counter()
    items = build_stream(seed=args.seed, per_topic=args.per_topic)
    print(f"stream: {len(items)} articles built in {time.perf_counter() - t:.1f}s")
    if args.explain:
        explain(items)
        return
    results, seconds, store = run(items)
    s = score(items, results)
    indexed = sum(1 for k, v in store.items() if k.startswith("a:") and "d" not in v)
    dups = sum(1 for i in items if i.scored and i.expected is not None)
    print("direct (Deduplicator.process on the CleanArticle items)")
    print_score(s)
    print(f"throughput: {len(items) / seconds:.0f} articles/s ({seconds:.1f}s for {len(items)})")
    print(
        f"store: {len(store)} keys, {store_bytes(store)} bytes, {store_bytes(store) / indexed:.0f} bytes per indexed article ({indexed} indexed)"
    )
    assert dups == s.tp + s.fn
    for kind, what in s.errors if args.errors else s.errors[:20]:
        print(f"  {kind}: {what}")
    if args.no_cli:
        return

    print("through the CLI (`python -m cli.main process --until dedup stream.jsonl`, id + text)")
    c, cli_seconds, kinds = run_cli(items)
    print_score(c)
    print(f"records: {kinds}; clean-stage splits: {c.split} items, dead letters: {c.dead_letters}")
    print(
        f"throughput: {len(items) / cli_seconds:.0f} articles/s end to end "
        f"({cli_seconds:.1f}s for {len(items)}, clean + dedup, start-up included)"
    )
    print(
        f"direct vs CLI: precision {s.precision:.4f} / {c.precision:.4f}, recall "
        f"{s.recall:.4f} / {c.recall:.4f}, F1 {s.f1:.4f} / {c.f1:.4f}"
    )
    for kind, what in c.errors if args.errors else c.errors[:20]:
        print(f"  {kind}: {what}")


if __name__ == "__main__":
    main()
