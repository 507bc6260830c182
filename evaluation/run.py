"""`make bench` and `make eval`: run the benchmarks and the quality evaluations, one module after another, each in its own process.

    .venv/bin/python -m evaluation.run            # benchmarks, then evaluations (`make bench`)
    .venv/bin/python -m evaluation.run --eval     # the quality evaluations alone (`make eval`)
    .venv/bin/python -m evaluation.run --bench    # the benchmarks alone
    .venv/bin/python -m evaluation.run --quick    # a smoke run: small samples, floors not enforced

A benchmark prints figures (speed, memory, and quality figures with no floor); an evaluation
prints figures with 95% intervals and exits 1 when one falls under its floor. The run exits 1
when any module failed. The machines are shared and noisy: compare the ratios each benchmark
prints, measured in the same run. The corpora are read where ``NEWS_CORPORA_DIR`` points.
Every evaluation run scores held-out sets: a look at them (each area's README.md counts looks).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from evaluation.settings import REPO, corpora_dir

# (module, arguments, arguments of a quick smoke run)
BENCHMARKS = [
    ("evaluation.clean.bench", [], ["--pages", "5", "--bbc", "20"]),
    ("evaluation.dedup.bench", [], ["--per-topic", "10", "--no-cli"]),
    (
        "evaluation.entities.bench",
        ["--no-re3d"],
        ["--no-re3d", "--articles", "10", "--memory-articles", "50"],
    ),
    ("evaluation.alerts.bench", [], ["--articles", "10"]),
    ("evaluation.events.bench", [], ["--alerts", "2000", "--days", "10"]),
    (
        "evaluation.stories.bench",
        [],
        ["--articles", "30", "--warm-up", "5", "--state-articles", "50", "--headlines", "300"],
    ),
    # the whole pipeline through Kafka against bare spaCy: 2,000 BBC articles, two entities
    # workers, latency to events, 10,000 articles' memory and a py-spy profile (~25 minutes)
    (
        "evaluation.e2e.bench",
        [],
        [
            "--articles",
            "60",
            "--warm-up",
            "5",
            "--latency-articles",
            "20",
            "--memory-articles",
            "300",
            "--profile-s",
            "10",
            "--out",
            ".bench/e2e-quick.json",
        ],
    ),
    # the report page for a day of 50,000 articles, opened offline in headless Chromium
    ("evaluation.report.bench", [], ["--articles", "2000", "--runs", "1"]),
]
EVALUATIONS = [
    ("evaluation.clean.quality", [], ["--pages", "5"]),
    ("evaluation.dedup.quality", [], ["--per-topic", "10"]),
    ("evaluation.entities.places", [], None),  # no smaller sample: skipped by --quick
    ("evaluation.entities.re3d", [], None),
    ("evaluation.alerts.quality", [], ["--tuning-only", "--limit", "10"]),
    # events by meaning (issue 20): floors under the figures of 2026-12-06, the goal is 0.90
    # (tune 0.64 since the stories' 40-word-piece cut split two naval wires' stories: 2026-12-07)
    ("evaluation.events.movements", ["--split", "tune", "--floor", "0.6"], None),
    ("evaluation.events.movements", ["--split", "held", "--floor", "0.3"], None),
    # the 14 movements labelled later (all held out): 0.50 at their first look, 2026-12-07
    ("evaluation.events.movements", ["--labels", "more", "--split", "all", "--floor", "0.4"], None),
    # all 55 (the 7 labelled last among them) as one stream: 0.595 on 2026-12-07
    ("evaluation.events.movements", ["--labels", "all", "--split", "all", "--floor", "0.5"], None),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--eval", action="store_true", help="the quality evaluations alone")
    which.add_argument("--bench", action="store_true", help="the benchmarks alone")
    parser.add_argument(
        "--quick", action="store_true", help="smoke: small samples, floors not enforced"
    )
    args = parser.parse_args(argv)
    modules = ([] if args.eval else BENCHMARKS) + ([] if args.bench else EVALUATIONS)
    print(f"corpora: {corpora_dir()} (NEWS_CORPORA_DIR)", flush=True)
    failed = []
    for module, full, quick in modules:
        if args.quick and quick is None:
            print(f"\n=== {module}: skipped by --quick (no smaller sample)", flush=True)
            continue
        command = [sys.executable, "-m", module, *(quick if args.quick else full)]
        print(f"\n=== {' '.join(command[2:])} ===", flush=True)
        started = time.perf_counter()
        code = subprocess.call(command, cwd=REPO)
        print(f"--- {module}: exit {code} in {time.perf_counter() - started:.1f} s", flush=True)
        if code:
            failed.append(module)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
