"""Benchmark of `newswatch report`'s page: built from a day of 50,000 articles' records, opened offline in headless Chromium.

Run from the repository root (part of ``make bench``; Chromium from ``make chromium-bin``):

    .venv/bin/python -m evaluation.report.bench [--articles 50000] [--runs 3]

The target (issue 21): the page opens in under 2 s for a day of 50,000 articles. A synthetic day
in the proportions the seeds and the stage benchmarks show: 8% of articles are duplicates, every
unique article gives a story record (about one story per four articles), 3% of articles give an
alert, folded into events (a fifth new, a sixth update, the rest mentions), over 40 countries and
5 rules; 0.5% of inputs are dead-lettered (five reasons over the five services); throughput is
counted per topic as ``messages_since`` gives it.

Printed: the records, the build time of the page (``build_report``), its size, and from Chromium
(every request but the file aborted) the time from navigation to the load event and to every
figure drawn (``performance.now()``), the median of ``--runs`` opens. Exit 1 if a figure was not
drawn or the page asked the network for anything.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cli.report.build import ReportInput, build_report
from evaluation.report.browser import render
from shared.schemas import DeadLetter, EventAlert, Frame, FrameParty, StoryRecord
from shared.topics import (
    ALERTS,
    CLEAN_ARTICLES,
    DEAD_LETTERS,
    DUPLICATES,
    ENRICHED_ARTICLES,
    EVENT_ALERTS,
    EVENT_MENTIONS,
    RAW_ARTICLES,
    STORIED_ARTICLES,
    STORY_RECORDS,
    UNIQUE_ARTICLES,
)

COUNTRIES = "RU US GB FR DE CN IN PK IR IQ SY UA BY PL VE CU KP KR JP TW TR IL EG LY SD ML NE NG ET SO YE SA AE QA AF KZ AM AZ GE RS".split()
RULES = ["troop_movement", "naval_deployment", "air_deployment", "mobilisation", "withdrawal"]
REASONS = ["invalid_json", "not_utf8", "empty_body", "too_large", "internal_error"]
SOURCES = [f"news{i}.example" for i in range(60)]


def synthesise(articles: int, now: datetime, seed: int = 7):
    """A day's records for ``articles`` inputs: events (and mentions), story records, dead letters, throughput."""
    rng = random.Random(seed)
    start = now - timedelta(hours=24)

    def moment() -> datetime:
        return start + timedelta(seconds=rng.uniform(0, 86_400))

    unique = int(articles * 0.92)
    stories: list[StoryRecord] = []
    sizes: dict[int, int] = {}
    for i in range(unique):
        story = rng.randrange(max(1, unique // 4))
        sizes[story] = sizes.get(story, 0) + 1
        when = moment()
        stories.append(
            StoryRecord(
                story_id=f"{story:08x}-story",
                status="new" if sizes[story] == 1 else "joined",
                article_id=f"a{i}",
                title=f"Story {story} headline <b>as scraped</b>",
                article_title=f"Article {i}",
                size=sizes[story],
                sources=rng.sample(SOURCES, 3),
                countries=rng.sample(COUNTRIES, 2),
                first_seen=when,
                last_seen=when,
            )
        )
    alerts = int(articles * 0.03)
    events: list[EventAlert] = []
    open_events: list[tuple[str, Frame, int]] = []
    for i in range(alerts):
        when = moment()
        roll = rng.random()
        if roll < 0.2 or not open_events:
            frame = Frame(
                actor=FrameParty(text="Forces", country=rng.choice(COUNTRIES)),
                action="deploy",
                place=FrameParty(text=f"City{rng.randrange(300)}", country=rng.choice(COUNTRIES)),
                count=rng.choice([None, 100, 300, 2000]),
                equipment=rng.choice([[], ["Il-62"], ["T-72", "BMP-2"]]),
            )
            open_events.append((f"event-{i}", frame, 0))
            index, status = len(open_events) - 1, "new"
        else:
            index = rng.randrange(len(open_events))
            status = "update" if roll < 0.37 else "mention"
        event_id, frame, reports = open_events[index]
        open_events[index] = (event_id, frame, reports + 1)
        events.append(
            EventAlert(
                event_id=event_id,
                status=status,  # type: ignore[arg-type]
                event_key="x",
                rule_id=RULES[hash(event_id) % len(RULES)],
                frame=frame,
                first_seen=when,
                last_seen=when,
                reports=reports + 1,
                mentions=0,
                articles=reports + 1,
                alert_id=f"alert-{i}",
                article_id=f"a{i}",
                sentence_index=1,
                evidence="Troops arrived in the city on Tuesday, officials said.",
                title=f"Report {i}: troops <script>arrive</script>",
                published_at=when,
                story_id=f"{rng.randrange(max(1, unique // 4)):08x}-story",
                story_size=rng.randrange(1, 30),
            )
        )
    dead = [
        DeadLetter(
            service=rng.choice(list(DEAD_LETTERS)),
            reason=rng.choice(REASONS),
            error_type="ValidationError",
            error="bad input",
            original_b64="",
            failed_at=moment(),
        )
        for _ in range(int(articles * 0.005))
    ]
    mentions = sum(e.status == "mention" for e in events)
    throughput = {
        RAW_ARTICLES.name: articles,
        CLEAN_ARTICLES.name: articles - len(dead),
        UNIQUE_ARTICLES.name: unique,
        DUPLICATES.name: articles - unique,
        ENRICHED_ARTICLES.name: unique,
        STORIED_ARTICLES.name: unique,
        STORY_RECORDS.name: unique,
        ALERTS.name: alerts,
        EVENT_ALERTS.name: alerts - mentions,
        EVENT_MENTIONS.name: mentions,
    }
    return events, stories, dead, throughput


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    now = datetime(2026, 12, 6, 12, tzinfo=UTC)
    events, stories, dead, throughput = synthesise(args.articles, now)
    print(
        f"a day of {args.articles:,} articles: {len(events):,} event records, "
        f"{len(stories):,} story records, {len(dead):,} dead letters"
    )
    started = time.perf_counter()
    page = build_report(
        ReportInput(
            events,
            stories,
            dead,
            now=now,
            since=timedelta(hours=24),
            throughput=throughput,
            lag={"clean": 12, "dedup": 0, "entities": 340, "stories": 5, "alerts": 0},
        )
    )
    build_s = time.perf_counter() - started
    figures = page.count('class="plotly-graph-div"')
    print(f"build_report: {build_s:.2f} s; page {len(page) / 1e6:.2f} MB, {figures} figures")
    loads, renders = [], []
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "report.html"
        path.write_text(page, encoding="utf-8")
        for _ in range(args.runs):
            seen = render(path, figures)
            if seen.drawn != figures or seen.blocked or seen.errors:
                print(f"FAILED: {seen.drawn}/{figures} drawn, asked {seen.blocked}, {seen.errors}")
                return 1
            loads.append(seen.load_ms)
            renders.append(seen.rendered_ms)
    load, rendered = statistics.median(loads), statistics.median(renders)
    print(
        f"headless Chromium, offline, median of {args.runs}: load event {load:.0f} ms, "
        f"every figure drawn {rendered:.0f} ms (target < 2000 ms: "
        f"{'met' if rendered < 2000 else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
