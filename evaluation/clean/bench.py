"""Benchmark of the clean stage: extraction F1 on the article-extraction benchmark, and speed.

Run: ``.venv/bin/python -m evaluation.clean.bench [--pages N] [--bbc N]`` (part of ``make bench``)

Prints:
- token-shingle F1 / precision / recall of ``clean_article`` on all 181 HTML pages of
  the corpora's extraction-benchmark/ (``NEWS_CORPORA_DIR``), scored by that benchmark's own ``evaluate.py``, and the
  ratio to trafilatura's published 0.958;
- the same F1 measured through the real CLI, ``python -m cli.main process --until clean`` as a
  subprocess, two ways: a folder of the pages as ``.html`` files (the CLI decodes them with
  trafilatura's ``decode_file``; no URL reaches the clean stage) and a ``.jsonl`` file of
  ``{"id", "html", "url"}`` (exactly what the direct path feeds ``clean_article``); the ``clean``
  records are scored by the same ``evaluate.py``;
- clean articles per second on a fixed sample: BBC plain text with boilerplate added, Reuters
  SGML records, and the HTML pages.

The F1 floors are checked by ``evaluation.clean.quality``.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from evaluation.settings import REPO, corpus
from services.clean.core import build_language_detector, clean_article
from shared.schemas import RawArticle

PUBLISHED = {"trafilatura 2.0.0": 0.958, "newspaper4k": 0.949, "readability-lxml": 0.922}
NOW = datetime(2024, 1, 1, tzinfo=UTC)

# Furniture added around BBC stories so the plain-text path has something to remove.
FURNITURE_TOP = "ADVERTISEMENT\n\n{title}\n\nBy Jane Example, Business reporter\n\n4 Min Read\n\n"
FURNITURE_BOTTOM = (
    "\n\nRelated Coverage\n\nMarkets rally as oil prices slide\n\nShare this article\n\n"
    "© 2005 Example News Ltd. All rights reserved.\n\nLeave a Reply\n\n"
    "Your email address will not be published. Required fields are marked *"
)


def load_scorer():
    """The benchmark's own evaluate.py, imported from its folder."""
    spec = importlib.util.spec_from_file_location(
        "extraction_evaluate", corpus("extraction-benchmark") / "evaluate.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_pages(limit: int | None = None) -> tuple[dict, dict[str, str]]:
    """Ground truth and the pages as text (decoded the way trafilatura decodes files)."""
    from trafilatura.utils import decode_file

    truth = json.loads(
        (corpus("extraction-benchmark") / "ground-truth.json").read_text(encoding="utf-8")
    )
    keys = sorted(truth)[:limit] if limit else sorted(truth)
    pages = {}
    for key in keys:
        raw = gzip.decompress(
            (corpus("extraction-benchmark") / "html" / f"{key}.html.gz").read_bytes()
        )
        pages[key] = decode_file(raw)
    return {k: truth[k] for k in keys}, pages


def extract_all(truth: dict, pages: dict[str, str], detector) -> dict[str, dict]:
    """Run the clean stage on every page; a page that yields nothing scores an empty body."""
    from shared.errors import Reject

    prediction = {}
    for key, page in pages.items():
        raw = RawArticle(id=key, html=page, url=truth[key].get("url"))
        try:
            articles = clean_article(raw, ingested_at=NOW, detector=detector)
            body = "\n\n".join(a.text for a in articles)
        except Reject:
            body = ""
        prediction[key] = {"articleBody": body}
    return prediction


def bench_f1(detector, limit: int | None = None) -> dict:
    """F1, precision and recall over the benchmark pages, by the benchmark's own scorer."""
    scorer = load_scorer()
    truth, pages = load_pages(limit)
    prediction = extract_all(truth, pages, detector)
    metrics = scorer.evaluate(truth, prediction, 100)
    return {
        "f1": metrics["f1"],
        "precision": metrics["precision"],
        "recall": metrics["recall"],
        "pages": len(pages),
    }


def run_process_cli(paths: list[Path], until: str = "clean") -> list[dict]:
    """``python -m cli.main process --until <stage> PATH...`` as a subprocess; its JSON lines."""
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "process", "--until", until, *map(str, paths)],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(
            f"newswatch process exited with {done.returncode}:\n"
            + done.stderr.decode("utf-8", "replace")[-3000:]
        )
    return [json.loads(line) for line in done.stdout.decode("utf-8").splitlines() if line.strip()]


def cli_predictions_html_folder(keys: list[str], folder: Path) -> tuple[dict[str, dict], int]:
    """The pages as ``<key>.html`` files (their original bytes) in one folder, through the CLI.

    The CLI reads a folder in sorted file order, and with ``--until clean`` an HTML input yields
    exactly one record (one ``clean`` article, or a ``dead_letter``), so the n-th record is the
    n-th page. Records carry a content-derived ``article_id`` here (a file has no id to give).
    Returns the predictions and the number of dead letters.
    """
    for key in keys:
        raw = gzip.decompress(
            (corpus("extraction-benchmark") / "html" / f"{key}.html.gz").read_bytes()
        )
        (folder / f"{key}.html").write_bytes(raw)
    records = run_process_cli([folder])
    if len(records) != len(keys) or any(r["kind"] not in ("clean", "dead_letter") for r in records):
        kinds = [r["kind"] for r in records]
        raise RuntimeError(
            f"expected one clean/dead_letter record per page, got {len(records)}: {kinds}"
        )
    prediction = {}
    for key, record in zip(sorted(keys), records, strict=True):
        body = record["value"]["text"] if record["kind"] == "clean" else ""
        prediction[key] = {"articleBody": body}
    return prediction, sum(r["kind"] == "dead_letter" for r in records)


def cli_predictions_jsonl(
    truth: dict, pages: dict[str, str], folder: Path
) -> tuple[dict[str, dict], int]:
    """The pages as one ``.jsonl`` of ``{"id", "html", "url"}`` through the CLI, mapped by id.

    A page the clean stage dead-letters (or that yields no record) scores an empty body, as in
    ``extract_all``. Returns the predictions and the number of dead letters.
    """
    path = folder / "pages.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for key, page in pages.items():
            line = {"id": key, "html": page, "url": truth[key].get("url")}
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    records = run_process_cli([path])
    bodies: dict[str, list[str]] = {key: [] for key in pages}
    dead = 0
    for record in records:
        value = record["value"]
        if record["kind"] == "clean":
            key = value.get("parent_id") or value["article_id"]
            bodies[key].append(value["text"])
        elif record["kind"] == "dead_letter":
            dead += 1
    prediction = {key: {"articleBody": "\n\n".join(texts)} for key, texts in bodies.items()}
    return prediction, dead


def bench_f1_cli(limit: int | None = None, how: str = "html") -> dict:
    """F1, precision and recall through ``newswatch process --until clean`` (a subprocess).

    ``how`` is ``"html"`` (a folder of ``.html`` files) or ``"jsonl"`` (``{"id","html","url"}``
    lines). Scored by the benchmark's own ``evaluate.py``, exactly as ``bench_f1``.
    """
    scorer = load_scorer()
    truth, pages = load_pages(limit)
    with tempfile.TemporaryDirectory(prefix="bench-clean-cli-") as tmp:
        if how == "html":
            prediction, dead = cli_predictions_html_folder(list(pages), Path(tmp))
        elif how == "jsonl":
            prediction, dead = cli_predictions_jsonl(truth, pages, Path(tmp))
        else:
            raise ValueError(f"unknown input form {how!r}")
    metrics = scorer.evaluate(truth, prediction, 100)
    return {
        "f1": metrics["f1"],
        "precision": metrics["precision"],
        "recall": metrics["recall"],
        "pages": len(pages),
        "dead_letters": dead,
    }


def bbc_sample(n: int) -> list[RawArticle]:
    """The first ``n`` BBC articles (sorted paths) with page furniture added around them."""
    paths = sorted(corpus("bbc", "bbc").glob("*/*.txt"))[:n]
    sample = []
    for path in paths:
        text = path.read_bytes().decode("utf-8", errors="replace")
        title, _, body = text.partition("\n")
        page = FURNITURE_TOP.format(title=title.strip()) + body.strip() + FURNITURE_BOTTOM
        sample.append(RawArticle(text=page))
    return sample


def rate(raws: list[RawArticle], detector) -> tuple[float, int]:
    """Clean articles produced per second over ``raws``."""
    start = time.perf_counter()
    produced = 0
    for raw in raws:
        produced += len(clean_article(raw, ingested_at=NOW, detector=detector))
    return produced / (time.perf_counter() - start), produced


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=None, help="only the first N HTML pages")
    parser.add_argument("--bbc", type=int, default=500, help="BBC articles in the speed sample")
    args = parser.parse_args()

    detector = build_language_detector()
    start = time.perf_counter()
    result = bench_f1(detector, args.pages)
    html_seconds = time.perf_counter() - start
    print(f"extraction benchmark ({result['pages']} pages, scorer: evaluate.py)")
    print(
        f"  F1 {result['f1']:.4f}  precision {result['precision']:.4f}  "
        f"recall {result['recall']:.4f}"
    )
    for name, f1 in PUBLISHED.items():
        print(f"  ratio to {name} ({f1:.3f}): {result['f1'] / f1:.4f}")

    trafilatura = PUBLISHED["trafilatura 2.0.0"]
    print("through the CLI (`python -m cli.main process --until clean`, a subprocess)")
    print(
        f"  direct clean_article:     F1 {result['f1']:.4f}  ratio to trafilatura "
        f"({trafilatura:.3f}) {result['f1'] / trafilatura:.4f}"
    )
    for how, label in (("html", "CLI, folder of .html:"), ("jsonl", "CLI, .jsonl id+html+url:")):
        start = time.perf_counter()
        cli = bench_f1_cli(args.pages, how)
        seconds = time.perf_counter() - start
        print(
            f"  {label:25s} F1 {cli['f1']:.4f}  ratio to trafilatura ({trafilatura:.3f}) "
            f"{cli['f1'] / trafilatura:.4f}  (precision {cli['precision']:.4f}, recall "
            f"{cli['recall']:.4f}, {cli['dead_letters']} dead letters, {seconds:.1f} s "
            "incl. start-up)"
        )

    print("throughput (one process, language detection on)")
    print(f"  HTML pages:        {result['pages'] / html_seconds:8.1f} articles/s")
    bbc_rate, bbc_n = rate(bbc_sample(args.bbc), detector)
    print(f"  BBC plain text:    {bbc_rate:8.1f} articles/s ({bbc_n} articles)")
    sgml = corpus("reuters21578", "reut2-000.sgm").read_bytes().decode("latin-1")
    start = time.perf_counter()
    sgml_articles = clean_article(RawArticle(text=sgml), ingested_at=NOW, detector=detector)
    sgml_rate = len(sgml_articles) / (time.perf_counter() - start)
    print(
        f"  Reuters SGML:      {sgml_rate:8.1f} articles/s ({len(sgml_articles)} articles "
        "from reut2-000.sgm)"
    )


if __name__ == "__main__":
    main()
