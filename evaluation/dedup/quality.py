"""Dedup quality on a sample of the BBC near-duplicate benchmark, directly and through `newswatch process`.

Run from the repository root (reads the corpora's bbc/, ``NEWS_CORPORA_DIR``):

    .venv/bin/python -m evaluation.dedup.quality                  # the sample: seed 3, 100 articles per topic
    .venv/bin/python -m evaluation.dedup.quality --per-topic 20   # smoke: floors not enforced

The stream and its labels: ``evaluation.dedup.corpus`` (README.md beside this file). Floors sit
just under what the sample measured (650 articles, 157 duplicates): directly, with the service's
default settings, precision 1.000, recall 0.994, 2,028 bytes per indexed article; through
``process --until dedup`` (the clean stage first, as in production) precision 1.000, recall 0.994
(one truncated, edited re-post missed), F1 0.997. Exits 1 when a figure falls under its floor.
The whole benchmark (every article, two seeds, speed): ``evaluation.dedup.bench``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from evaluation.dedup.corpus import Score, build_stream, score, score_records, write_stream_jsonl
from evaluation.figures import Floors, share
from evaluation.settings import REPO
from services.dedup.core import Deduplicator
from services.dedup.settings import DedupSettings
from shared.schemas import UniqueArticle

SEED, PER_TOPIC = 3, 100
MIN_DUPLICATES = 100  # the sample holds enough duplicates to mean something
DIRECT = {"precision": 0.995, "recall": 0.98, "f1": 0.99}
CLI = {"precision": 0.995, "recall": 0.99, "f1": 0.995}
MAX_BYTES_PER_ARTICLE = 2300


def figures(name: str, result: Score, floors: Floors, minimum: dict[str, float]) -> None:
    print(
        f"{name}: precision {share(result.tp, result.tp + result.fp)}, "
        f"recall {share(result.tp, result.tp + result.fn)}, F1 {result.f1:.3f}"
    )
    floors.holds(
        f"{name}: at least {MIN_DUPLICATES} duplicates scored",
        result.tp + result.fn >= MIN_DUPLICATES,
    )
    for what, floor in minimum.items():
        floors.at_least(f"{name} {what}", getattr(result, what), floor, result.errors[:20])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--per-topic",
        type=int,
        default=PER_TOPIC,
        help="smoke: a smaller sample, floors not enforced",
    )
    args = parser.parse_args(argv)
    floors = Floors(enforce=args.per_topic == PER_TOPIC)
    items = build_stream(seed=SEED, per_topic=args.per_topic)
    print(f"stream: seed {SEED}, {args.per_topic} articles per topic: {len(items)} articles")

    store: dict = {}
    defaults = DedupSettings.model_construct()  # the shipped defaults, no environment read
    dedup = Deduplicator(store, window=defaults.window, evict_every=defaults.evict_every)
    results = [dedup.process(item.article, now=item.now) for item in items]
    figures("direct", score(items, results), floors, DIRECT)
    indexed = sum(isinstance(r, UniqueArticle) for r in results)
    size = sum(
        len(json.dumps(k)) + len(json.dumps(v, separators=(",", ":"))) for k, v in store.items()
    )
    print(f"store: {size / indexed:.0f} bytes per indexed article ({indexed} indexed)")
    floors.holds(
        f"store at most {MAX_BYTES_PER_ARTICLE} bytes per indexed article",
        size / indexed <= MAX_BYTES_PER_ARTICLE,
    )

    with tempfile.TemporaryDirectory(prefix="eval-dedup-") as tmp:
        stream = write_stream_jsonl(items, Path(tmp) / "stream.jsonl")
        done = subprocess.run([sys.executable, "-m", "cli.main", "process", "--until", "dedup", str(stream)],
                              cwd=REPO, capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode:
        print(done.stderr[-3000:])
        floors.holds("`newswatch process` exits 0", False)
        return floors.exit_code()
    through_cli = score_records(
        items, [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    )
    figures("through `newswatch process --until dedup`", through_cli, floors, CLI)
    floors.holds(
        "no dead letter through the CLI", through_cli.dead_letters == 0, through_cli.errors[:20]
    )
    return floors.exit_code()


if __name__ == "__main__":
    sys.exit(main())
