"""The clean and dedup quality goals hold through `newswatch process` (the real CLI, a subprocess).

Reads the corpora in ../shared/data at test time (never copied); a missing corpus fails the test.
Thresholds sit just under what was measured through the CLI:

- clean: all 181 pages of the extraction benchmark as a folder of ``.html`` files, through
  ``process --until clean``, scored by the benchmark's own ``evaluate.py``: F1 0.9649 (the same as
  calling ``clean_article`` directly; trafilatura publishes 0.958);
- dedup: the BBC near-duplicate benchmark sample of tests/services/dedup/test_benchmark.py (seed 3,
  100 articles per topic: 650 articles, 157 duplicates) as ``{"id", "text"}`` JSON lines through
  ``process --until dedup``, so the clean stage runs first as in production: precision 1.000,
  recall 0.994 (one truncated, edited re-post missed), F1 0.997.

The full figures, direct and through the CLI: ``make bench``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bench.bench_clean import bench_f1_cli
from tests.bench.dedup_corpus import build_stream, score_records, write_stream_jsonl

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_html_extraction_f1_through_the_cli_meets_the_goal() -> None:
    result = bench_f1_cli(how="html")
    assert result["pages"] == 181
    assert result["f1"] >= 0.964, result  # the goal is 0.96; measured 0.9649


@pytest.mark.slow
def test_dedup_benchmark_sample_through_the_cli_meets_the_goal(tmp_path) -> None:
    items = build_stream(seed=3, per_topic=100)
    stream = write_stream_jsonl(items, tmp_path / "stream.jsonl")
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "process", "--until", "dedup", str(stream)],
        cwd=REPO, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    records = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    score = score_records(items, records)
    assert score.tp + score.fn >= 100  # the sample holds enough duplicates to mean something
    assert score.dead_letters == 0, score.errors
    assert score.precision >= 0.995, score.errors
    assert score.recall >= 0.99, score.errors
    assert score.f1 >= 0.995, score.errors
