"""``newswatch rules test --labels FILE``: a rule scored on labelled sentences, with its errors listed.

The labels are a CSV with a header and the columns ``text`` and ``label`` (1: the rule should
fire, 0: it should not; anything else is left out). Each text goes through the same stages as
``newswatch rules test`` runs, as an article of its own.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO


@dataclass
class Scored:
    """A rule's verdicts against the labels: counts, and the texts it got wrong."""

    rule: str
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    misses: list[str] = field(default_factory=list)
    false_alarms: list[str] = field(default_factory=list)

    def add(self, text: str, label: bool, fired: bool) -> None:
        """Count one labelled text."""
        if label and fired:
            self.tp += 1
        elif label:
            self.fn += 1
            self.misses.append(text)
        elif fired:
            self.fp += 1
            self.false_alarms.append(text)
        else:
            self.tn += 1


def read_labels(path: Path) -> list[tuple[str, bool]]:
    """The (text, should fire) pairs of a labels CSV; raises ``ValueError`` on a file without them."""
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"text", "label"} <= set(reader.fieldnames):
            raise ValueError(f"{path}: needs a header with the columns text and label")
        pairs = [
            (row["text"].strip(), row["label"].strip() == "1")
            for row in reader
            if row["text"] and row["label"] and row["label"].strip() in ("0", "1")
        ]
    if not pairs:
        raise ValueError(f"{path}: no row labelled 0 or 1")
    return pairs


def score_labels(
    pairs: Iterable[tuple[str, bool]], rule: str, fires: Callable[[str], set[str]]
) -> Scored:
    """Score ``rule`` on the labelled texts; ``fires(text)`` is the set of rules that fired on it."""
    scored = Scored(rule)
    for text, label in pairs:
        scored.add(text, label, rule in fires(text))
    return scored


def share(hits: int, total: int) -> str:
    """``hits / total`` with its 95% Wilson interval, or n/a."""
    # scipy.stats takes a second to import: only this report pays for it.
    from scipy.stats import binomtest  # noqa: PLC0415

    if total == 0:
        return "n/a"
    low, high = binomtest(hits, total).proportion_ci(method="wilson")
    return f"{hits / total:.3f} [{low:.2f}, {high:.2f}] ({hits}/{total})"


def report(scored: Scored, path: Path, out: TextIO) -> None:
    """Print precision and recall with their intervals, then every miss and false alarm."""
    s = scored
    out.write(
        f"{s.rule} on {path}: {s.tp + s.fn} should fire, {s.fp + s.tn} should not\n"
        f"  precision {share(s.tp, s.tp + s.fp)}\n"
        f"  recall    {share(s.tp, s.tp + s.fn)}\n"
    )
    for title, texts in (("misses", s.misses), ("false alarms", s.false_alarms)):
        out.write(f"{title} ({len(texts)}):\n")
        for text in texts:
            out.write(f"  - {json.dumps(text, ensure_ascii=False)}\n")
