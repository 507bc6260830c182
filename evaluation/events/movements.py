"""Events by meaning, scored on labelled movements: does each movement open one event, and no event hold two?

    .venv/bin/python -m evaluation.events.movements [--split tune|held|all] [--show]

The 141 reports of ``movements.csv`` (34 movements; how they were read: MOVEMENTS.md) go through
every stage as ``newswatch process`` runs them (``cli.pipeline.LocalPipeline``), as raw JSON in
article-time order: Reuters-21578 with its wire date, BBC and AG News undated (AG in row order),
so the pipeline dates them where their text says when. For each movement: how many events its
reports opened (``new``); and every event whose reports come from two movements is a merge.

The goal (issue 20): at most one new event for at least 90% of the movements, no merge. A
movement none of whose reports fired is counted apart (the alert rules' recall, not the fold's).
Splits by movement (md5 of the slug); the two movements the issue names are tuning by
construction. Every run of ``held`` or ``all`` is a look at the held-out movements: README.md
counts them.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cli.pipeline import LocalPipeline
from evaluation.figures import wilson
from evaluation.settings import corpora_dir
from evaluation.stories.quality import read_reuters
from services.stages import STAGES
from shared.schemas import NO_MOVEMENT, EventAlert

HERE = Path(__file__).resolve().parent
MOVEMENTS = HERE / "movements.csv"
# Labelled later, from corpora the first reader did not search (MOVEMENTS_MORE.md), after the
# fold was settled: every movement of it is held out.
MORE = HERE / "movements_more.csv"
# Labelled after the fold's second round (MOVEMENTS_FRESH.md), from what the first two readers
# left in Reuters, AG and BBC: held out too.
FRESH = HERE / "movements_fresh.csv"
LABELS = {
    "first": (MOVEMENTS,),
    "more": (MORE,),
    "dev": (MOVEMENTS, MORE),  # the 48 whose looks are spent: development, as one stream
    "fresh": (FRESH,),
    "all": (MOVEMENTS, MORE, FRESH),
}
LEE = {"lee": "lee.cor", "lee-bg": "lee_background.cor"}  # ../shared/data/lee's two files
# Named in the issue's text, so read while the fixes were made: tuning whatever their hash.
ISSUE_MOVEMENTS = frozenset({"uk-black-watch-baghdad-2004-10", "au-darfur-expansion-2004-10"})
GOAL_SHARE = 0.90


@dataclass(frozen=True)
class Report:
    """One labelled report: its movement and the raw article it is sent as."""

    source: str
    ref: str
    movement: str
    raw: dict[str, str]


def split_of(movement: str, labels: Path = MOVEMENTS) -> str:
    """tune or held, fixed by the slug (every movement of the later files is held)."""
    if labels in (MORE, FRESH):
        return "held"
    if movement in ISSUE_MOVEMENTS:
        return "tune"
    return "tune" if hashlib.md5(movement.encode()).digest()[0] % 2 == 0 else "held"


def load_reports(split: str = "all", files: tuple[Path, ...] = (MOVEMENTS,)) -> list[Report]:
    """The labelled reports of the split, in the order the pipeline gets them."""
    data = corpora_dir()
    rows = []
    for labels in files:
        with labels.open(encoding="utf-8") as f:
            rows += [
                r for r in csv.DictReader(f) if split in ("all", split_of(r["movement"], labels))
            ]
    wires = read_reuters({r["ref"] for r in rows if r["source"] == "reuters"}, data)
    ag: list[dict[str, str]] = []
    if any(r["source"] == "ag" for r in rows):
        with (data / "ag-news" / "test.csv").open(encoding="utf-8") as f:
            ag = list(csv.DictReader(f))
    keyed = []
    lee: dict[str, list[str]] = {}
    re3d: dict[str, dict[str, str]] = {}
    for row in rows:
        source, ref = row["source"], row["ref"]
        raw: dict[str, str] = {"id": f"{source}:{ref}"}
        if source == "reuters":
            title, body, when = wires[ref]
            raw |= {"title": title, "text": body, "published_at": when.isoformat()}
            raw["source"] = "reuters.com"
            order = (0, when.isoformat(), int(ref))
        elif source == "ag":
            item = ag[int(ref)]
            raw |= {"title": item["title"], "text": " ".join(item["description"].split("\\"))}
            order = (1, "", int(ref))
        elif source == "bbc":  # bbc/<topic>/NNN.txt
            text = (data / "bbc" / "bbc" / ref.removeprefix("bbc/")).read_text(encoding="utf-8")
            title, _, body = text.partition("\n")
            raw |= {"title": title.strip(), "text": body.strip(), "source": "bbc.co.uk"}
            order = (2, ref, 0)
        elif source in LEE:  # ABC (Australia) articles, undated, one a line, no headline
            lines = lee.setdefault(source, _lines(data / "lee" / LEE[source]))
            raw |= {"text": lines[int(ref) - 1], "source": "abc.net.au"}
            order = (3, source, int(ref))
        else:  # re3d: Syria and Iraq documents (2015-2017), undated, by their id
            if not re3d:
                re3d.update(_re3d(data / "re3d"))
            doc = re3d[ref]
            raw |= {"title": doc["title"], "text": doc["text"], "source": doc["sourceName"]}
            order = (4, ref, 0)
        keyed.append((order, Report(source, ref, row["movement"], raw)))
    keyed.sort(key=lambda x: x[0])
    return [r for _, r in keyed]


def _lines(path: Path) -> list[str]:
    return path.read_bytes().decode("latin-1").splitlines()


def _re3d(folder: Path) -> dict[str, dict[str, str]]:
    """Every re3d document by its id (each source's documents.json holds JSON lines)."""
    docs = {}
    for path in sorted(folder.glob("*/documents.json")):
        for line in path.read_text(encoding="utf-8-sig").splitlines():
            if line.strip():
                doc = json.loads(line)
                docs[doc["_id"]] = doc
    return docs


@dataclass
class Outcome:
    """What the pipeline made of one movement's reports."""

    reports: int = 0
    fired: int = 0  # reports with at least one event record
    opened: set[str] = field(default_factory=set)  # events its reports opened
    joined: set[str] = field(default_factory=set)  # every event its reports reached
    keys: list[str] = field(default_factory=list)  # the event keys it opened, for --show
    # each alert's rule and the direction its own frame read ("troop_movement", "in")
    kinds: set[tuple[str, str]] = field(default_factory=set)


def can_be_one_event(kinds: set[tuple[str, str]]) -> bool:
    """Whether any fold that joins only alerts of one rule and one direction (the issue's rule) could make these one event.

    One rule, and at most one direction read (an alert whose frame read no direction is given
    the benefit of the doubt). The share of movements for which this holds is the ceiling of
    every such fold over the alerts the rules gave: a movement told with two directions or by
    two rules opens two events however well its frames are read.
    """
    rules = {rule for rule, _ in kinds}
    directions = {direction for _, direction in kinds if direction != NO_MOVEMENT}
    return len(rules) <= 1 and len(directions) <= 1


def run(reports: Iterable[Report]) -> tuple[dict[str, Outcome], dict[str, set[str]]]:
    """Every report through the pipeline; per movement its outcome, per event the movements in it."""
    pipeline = LocalPipeline(STAGES)
    outcomes: dict[str, Outcome] = defaultdict(Outcome)
    movements_of: dict[str, set[str]] = defaultdict(set)
    for report in reports:
        outcome = outcomes[report.movement]
        outcome.reports += 1
        fired = False
        for record in pipeline.feed(json.dumps(report.raw).encode()):
            value = record.value
            if not isinstance(value, EventAlert):
                continue
            fired = True
            frame = value.alert_frame
            outcome.kinds.add((value.rule_id, frame.direction if frame else NO_MOVEMENT))
            outcome.joined.add(value.event_id)
            movements_of[value.event_id].add(report.movement)
            if value.status == "new":
                outcome.opened.add(value.event_id)
                outcome.keys.append(f"{report.source}:{report.ref} {value.event_key}")
        outcome.fired += fired
    return dict(outcomes), dict(movements_of)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("tune", "held", "all"), default="tune")
    parser.add_argument(
        "--labels",
        choices=tuple(LABELS),
        default="first",
        help="first: movements.csv; more: movements_more.csv; dev: those two as one stream; "
        "fresh: movements_fresh.csv (the later two all held out); all: the three",
    )
    parser.add_argument("--show", action="store_true", help="each movement's new events")
    parser.add_argument(
        "--floor",
        type=float,
        default=GOAL_SHARE,
        help="exit 1 under this share of movements with at most one new event (default: the goal)",
    )
    args = parser.parse_args(argv)

    outcomes, movements_of = run(load_reports(args.split, LABELS[args.labels]))
    merges = {e: sorted(m) for e, m in movements_of.items() if len(m) > 1}
    fired = {m: o for m, o in outcomes.items() if o.fired}
    one = [m for m, o in fired.items() if len(o.opened) <= 1]
    merged = {m for ms in merges.values() for m in ms}
    share = len(one) / len(fired) if fired else 0.0
    low, high = wilson(len(one), len(fired))
    print(f"events by meaning, labels {args.labels}, split {args.split}")
    print(
        f"  movements {len(outcomes)}, reports {sum(o.reports for o in outcomes.values())}, "
        f"reports with an event {sum(o.fired for o in outcomes.values())}"
    )
    print(f"  movements none of whose reports fired: {len(outcomes) - len(fired)}")
    print(
        f"  at most one new event: {len(one)}/{len(fired)} = {share:.3f} "
        f"[{low:.3f}, {high:.3f}] (goal >= {GOAL_SHARE:.2f})"
    )
    print(f"  new events per firing movement: {Counter(len(o.opened) for o in fired.values())}")
    can = [m for m, o in fired.items() if can_be_one_event(o.kinds)]
    low_c, high_c = wilson(len(can), len(fired))
    print(
        f"  ceiling of a fold by rule and direction, over these alerts: {len(can)}/{len(fired)} = "
        f"{len(can) / len(fired) if fired else 0.0:.3f} [{low_c:.3f}, {high_c:.3f}]"
    )
    print(f"  events holding two movements: {len(merges)} (movements in them: {len(merged)})")
    if args.show:
        for movement, outcome in sorted(outcomes.items()):
            print(
                f"\n{movement}: {outcome.fired}/{outcome.reports} fired, {len(outcome.opened)} new"
            )
            for key in outcome.keys:
                print(f"    {key}")
            if outcome.fired and not can_be_one_event(outcome.kinds):
                print(f"    (two rules or directions: {sorted(outcome.kinds)})")
        for event, movements in merges.items():
            print(f"\nmerged in {event[:8]}: {', '.join(movements)}")
    return 0 if share >= args.floor else 1


if __name__ == "__main__":
    raise SystemExit(main())
