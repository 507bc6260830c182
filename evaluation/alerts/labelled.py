"""The labelled troop-movement items (ids and labels in CSV files here, text from the corpora folder, ``NEWS_CORPORA_DIR``): load them as articles and score a rule on them.

How the sets were made, and every look at them: README.md beside this file.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from evaluation.articles import split_sentences
from evaluation.figures import wilson
from evaluation.settings import corpora_dir
from shared.schemas.articles import UniqueArticle

HERE = Path(__file__).resolve().parent
DEV_SET = HERE / "troop_dev.csv"
FRESH_SET = HERE / "troop_fresh.csv"
DEFENCE_SET = HERE / "troop_defence.csv"
FRESH2_SET = HERE / "troop_fresh2.csv"
# Second readers and adjudication (README.md says how they were made).
AGREEMENT_SET = HERE / "troop_agreement.csv"  # reader B: 400 items of dev, tune2, holdout, held2
SECOND_SET = HERE / "troop_second.csv"  # reader C: the held-out items B did not read
ADJUDICATED_SET = HERE / "troop_adjudicated.csv"  # a third reader's decision where two disagreed
HELD_OUT = (
    (DEV_SET, "holdout"),
    (DEFENCE_SET, "held2"),
    (FRESH_SET, "fresh"),
    (FRESH2_SET, "fresh2"),
)
NOW = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Item:
    """One labelled item: its id, label, split and the article built from its text (title when it has one)."""

    source: str
    ref: str
    label: str
    split: str
    article: UniqueArticle


class Corpora:
    """The shared corpora, read once."""

    def __init__(self, data: Path | None = None) -> None:
        self.data = data or corpora_dir()
        self._ag: list[dict[str, str]] | None = None
        self._cameo: dict[str, list[str]] | None = None
        self._reuters: dict[str, tuple[str, str]] | None = None
        self._re3d: dict[str, dict[str, str]] | None = None
        self._uci: dict[str, str] | None = None
        self._lee: dict[str, list[str]] = {}
        self._reuters_body: dict[str, str] | None = None
        self._zyte: dict[str, str] | None = None

    @property
    def ag(self) -> list[dict[str, str]]:
        if self._ag is None:
            with (self.data / "ag-news" / "test.csv").open(encoding="utf-8") as f:
                self._ag = list(csv.DictReader(f))
        return self._ag

    @property
    def cameo(self) -> dict[str, list[str]]:
        if self._cameo is None:
            self._cameo = {
                part: [
                    line.rstrip("\n").rsplit("\t", 1)[0]
                    for line in (self.data / "cameo-sentences" / f"{part}.tsv").open(
                        encoding="utf-8"
                    )
                ]
                for part in ("train", "test")
            }
        return self._cameo

    def article(self, source: str, ref: str) -> UniqueArticle:
        """The item as an article: AG rows, Reuters stories, UCI headlines and re3d titles have a title, the others are one sentence of body."""
        title: str | None = None
        if source == "ag":
            row = self.ag[int(ref)]
            title = row["title"]
            text = " ".join(row["description"].replace("\\", " ").split())
        elif source == "cameo":
            part, line = ref.split(":")
            text = self.cameo[part][int(line)]
        elif source == "bbc":
            path, span = ref.rsplit(":", 1)
            start, end = map(int, span.split("-"))
            text = (
                (self.data / "bbc" / "bbc" / path)
                .read_bytes()
                .decode("utf-8", "replace")[start:end]
            )
        elif source == "reuters":
            title, text = self.reuters[ref]
        elif source == "re3d":
            # "<source folder>/<document id>:<start>-<end>" (a sentence) or ":title" (the headline alone)
            doc, span = ref.rsplit(":", 1)
            document = self.re3d[doc]
            if span == "title":
                title, text = document["title"], ""
            else:
                start, end = map(int, span.split("-"))
                text = document["text"][start:end]
        elif source == "uci":
            title, text = self.uci[ref], ""
        elif source == "lee":
            # "<file>:<line>:<start>-<end>": a sentence of one ABC article (one article a line)
            name, line, span = ref.split(":")
            start, end = map(int, span.split("-"))
            text = self.lee(name)[int(line)][start:end]
        elif source in ("reuters-body", "zyte"):
            # "<NEWID or benchmark key>:<start>-<end>": a sentence of the story body, no title
            key, span = ref.rsplit(":", 1)
            start, end = map(int, span.split("-"))
            bodies = self.reuters_body if source == "reuters-body" else self.zyte
            text = bodies[key][start:end]
        else:
            raise ValueError(f"unknown source {source!r}")
        return UniqueArticle(
            article_id=f"{source}:{ref}",
            title=title,
            text=text,
            ingested_at=NOW,
            sentences=split_sentences(text),
            language="en",
        )

    @property
    def reuters(self) -> dict[str, tuple[str, str]]:
        """Reuters-21578 stories by NEWID: (TITLE, first sentence of BODY)."""
        if self._reuters is None:
            self._reuters = read_reuters(self.data / "reuters21578")
        return self._reuters

    @property
    def reuters_body(self) -> dict[str, str]:
        """Reuters-21578 story bodies by NEWID, whole and normalised (the sentences after the first are ``troop_fresh2``)."""
        if self._reuters_body is None:
            self._reuters_body = read_reuters_bodies(self.data / "reuters21578")
        return self._reuters_body

    @property
    def zyte(self) -> dict[str, str]:
        """The extraction benchmark's article bodies by key, exactly as stored."""
        if self._zyte is None:
            with (self.data / "extraction-benchmark" / "ground-truth.json").open(
                encoding="utf-8"
            ) as f:
                self._zyte = {key: page["articleBody"] for key, page in json.load(f).items()}
        return self._zyte

    @property
    def re3d(self) -> dict[str, dict[str, str]]:
        """re3d documents (title, text) by "<source folder>/<_id>" (JSON lines, one document each)."""
        if self._re3d is None:
            self._re3d = {}
            for folder in sorted(p for p in (self.data / "re3d").iterdir() if p.is_dir()):
                for line in (folder / "documents.json").open(encoding="utf-8"):
                    doc = json.loads(line)
                    self._re3d[f"{folder.name}/{doc['_id']}"] = doc
        return self._re3d

    @property
    def uci(self) -> dict[str, str]:
        """UCI News Aggregator headlines by ID."""
        if self._uci is None:
            with (self.data / "uci-news-clusters" / "uci-news-aggregator.head6367.csv").open(
                encoding="utf-8"
            ) as f:
                self._uci = {r["ID"]: r["TITLE"] for r in csv.DictReader(f)}
        return self._uci

    def lee(self, name: str) -> list[str]:
        """The ABC articles of lee/<name>.cor, one a line (Latin-1: lee.cor holds a raw pound sign)."""
        if name not in self._lee:
            self._lee[name] = (
                (self.data / "lee" / f"{name}.cor").read_bytes().decode("latin-1").split("\n")
            )
        return self._lee[name]


def read_reuters(folder: Path) -> dict[str, tuple[str, str]]:
    """Title and first sentence of each Reuters-21578 story, by NEWID (SGML read with string methods: no regex on the corpus)."""
    stories: dict[str, tuple[str, str]] = {}
    for path in sorted(folder.glob("*.sgm")):
        raw = path.read_bytes().decode("latin-1")
        for chunk in raw.split("<REUTERS ")[1:]:
            newid = _between(chunk, 'NEWID="', '"')
            title = _unescape(_between(chunk, "<TITLE>", "</TITLE>"))
            body = _unescape(_between(chunk, "<BODY>", "</BODY>"))
            if not newid or not title or not body:
                continue
            body = " ".join(body.replace("Reuter\x03", "").split())
            first = body.split(". ", 1)[0].rstrip(".") + "."
            stories[newid] = (" ".join(title.split()), first)
    return stories


def read_reuters_bodies(folder: Path) -> dict[str, str]:
    """Each Reuters-21578 story's body by NEWID, read as ``read_reuters`` reads it (title or not), whitespace collapsed."""
    bodies: dict[str, str] = {}
    for path in sorted(folder.glob("*.sgm")):
        raw = path.read_bytes().decode("latin-1")
        for chunk in raw.split("<REUTERS ")[1:]:
            newid = _between(chunk, 'NEWID="', '"')
            body = _unescape(_between(chunk, "<BODY>", "</BODY>"))
            if newid and body:
                bodies[newid] = " ".join(body.replace("Reuter\x03", "").split())
    return bodies


def _between(text: str, start: str, end: str) -> str:
    i = text.find(start)
    if i < 0:
        return ""
    j = text.find(end, i + len(start))
    return text[i + len(start) : j if j >= 0 else None]


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("&#3;", "")


def read_items(path: Path, corpora: Corpora, *, split: str | None = None) -> list[Item]:
    """The labelled items of one CSV file (``source,ref,label,split``), optionally one split only; "?" items are left out."""
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [
        Item(r["source"], r["ref"], r["label"], r["split"], corpora.article(r["source"], r["ref"]))
        for r in rows
        if r["label"] != "?" and (split is None or r["split"] == split)
    ]


def read_labels(path: Path) -> dict[tuple[str, str], str]:
    """Every label of one CSV file of labels, by (source, ref), "?" included."""
    with path.open(encoding="utf-8") as f:
        return {(r["source"], r["ref"]): r["label"] for r in csv.DictReader(f)}


def second_labels() -> dict[tuple[str, str], str]:
    """The second reader's label of every item it read (B's sample, then C's held-out items)."""
    return {**read_labels(AGREEMENT_SET), **read_labels(SECOND_SET)}


def adjudicated_held_out(corpora: Corpora) -> list[Item]:
    """Every held-out item (holdout, held2, fresh, fresh2) with its final label, "?" left out.

    Final: the first label where the second reader agreed or abstained ("?"), the adjudicator's
    where the two gave 1 and 0. Raises if a held-out item has no second label or a disagreement
    no adjudication: the set must be complete to be scored.
    """
    second, decided = second_labels(), read_labels(ADJUDICATED_SET)
    items = []
    for path, split in HELD_OUT:
        with path.open(encoding="utf-8") as f:
            rows = [r for r in csv.DictReader(f) if r["split"] == split and r["label"] != "?"]
        for r in rows:
            key = (r["source"], r["ref"])
            other = second[key]  # KeyError: an item no second reader read
            label = r["label"] if other in ("?", r["label"]) else decided[key]
            if label != "?":
                items.append(Item(r["source"], r["ref"], label, split, corpora.article(*key)))
    return items


@dataclass
class Score:
    """Precision and recall of a predictor on labelled items, with the items it got wrong."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors: list[str] | None = None

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def __str__(self) -> str:
        # With a few dozen positives a set's figures are wide: one item moves recall by 2 to 8
        # points. The 95% Wilson intervals say how wide.
        p_lo, p_hi = wilson(self.tp, self.tp + self.fp)
        r_lo, r_hi = wilson(self.tp, self.tp + self.fn)
        return (
            f"tp={self.tp} fp={self.fp} fn={self.fn} precision={self.precision:.3f} "
            f"[{p_lo:.2f}, {p_hi:.2f}] recall={self.recall:.3f} [{r_lo:.2f}, {r_hi:.2f}]"
        )


def score(items: Iterable[Item], predict: Callable[[UniqueArticle], bool]) -> Score:
    """Score ``predict`` (does the rule fire on the article) against the labels."""
    result = Score(errors=[])
    assert result.errors is not None
    for item in items:
        predicted, gold = predict(item.article), item.label == "1"
        result.tp += predicted and gold
        result.fp += predicted and not gold
        result.fn += gold and not predicted
        if predicted != gold:
            result.errors.append(f"{'FP' if predicted else 'FN'} {item.source}:{item.ref}")
    return result
