"""``newswatch report``: read the topics (and Prometheus), write the report page.

Reads the event, mention, story and dead-letter topics from the beginning until caught up (no
consumer group: the report shows state, like ``newswatch stories``), counts each topic's messages
in the window from its offsets, asks Prometheus for the consumer lag when ``--prometheus`` names
it, and hands it all to the pure ``cli.report.build``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from cli.alerts import caught_up, open_consumer
from shared.schemas import DeadLetter, EventAlert, StoryRecord, event_record
from shared.topics import DEAD_LETTERS, EVENT_ALERTS, EVENT_MENTIONS, STORY_RECORDS, TOPICS

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
LAG_QUERY = "sum by (service) (max by (service, topic, partition) (news_consumer_lag))"


def parse_duration(text: str) -> timedelta:
    """``24h``, ``90m``, ``7d``, ``2w``, ``30s`` (or a combination: ``1d12h``) as a timedelta."""
    parts = re.findall(r"(\d+(?:\.\d+)?)([smhdw])", text.strip().lower())
    if not parts or "".join(n + u for n, u in parts) != text.strip().lower():
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 24h, 90m, 7d)")
    return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))


def add_parser(sub: Any, with_bootstrap: Any) -> None:
    """Register ``newswatch report`` on the command's subparsers."""
    p = with_bootstrap(
        sub.add_parser(
            "report", help="write one self-contained HTML page: events, places, stories, stages"
        )
    )
    p.add_argument(
        "--since",
        type=parse_duration,
        default=timedelta(hours=24),
        help="the window, by each record's own time (default 24h; e.g. 90m, 7d)",
    )
    p.add_argument("--out", default="newswatch-report.html", help="the page (default %(default)s)")
    p.add_argument(
        "--prometheus",
        help="Prometheus' base URL (e.g. http://localhost:9090) for the lag per stage",
    )
    p.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    """Read the topics (and Prometheus), write the page to ``--out``."""
    now = datetime.now(UTC)
    consumer = open_consumer(
        args, [EVENT_ALERTS, EVENT_MENTIONS, STORY_RECORDS, *DEAD_LETTERS.values()], group=None
    )
    if consumer is None:
        return 1
    events: list[EventAlert] = []
    stories: list[StoryRecord] = []
    dead: list[DeadLetter] = []
    try:
        for record in _read_to_end(consumer):
            try:
                if record.topic == STORY_RECORDS.name:
                    stories.append(StoryRecord.model_validate_json(record.value))
                elif record.topic in (EVENT_ALERTS.name, EVENT_MENTIONS.name):
                    events.append(event_record(json.loads(record.value)))
                else:
                    dead.append(DeadLetter.model_validate_json(record.value))
            except ValueError as error:
                print(
                    f"newswatch: unreadable record in {record.topic} at offset {record.offset}: {error}",
                    file=sys.stderr,
                )
        throughput = messages_since(consumer, now - args.since)
    finally:
        consumer.close()
    lag, note = (None, "Prometheus not asked (--prometheus URL).")
    if args.prometheus:
        lag, note = consumer_lag(args.prometheus)
    # plotly loads in a fraction of a second: only the report pays for it, not every command
    from cli.report.build import ReportInput, build_report  # noqa: PLC0415

    page = build_report(
        ReportInput(
            events,
            stories,
            dead,
            now=now,
            since=args.since,
            throughput=throughput,
            lag=lag,
            lag_note=note,
        )
    )
    out = Path(args.out)
    out.write_text(page, encoding="utf-8")
    print(
        f"newswatch: report of {args.since} written to {out} ({len(page) / 1e6:.1f} MB)",
        file=sys.stderr,
    )
    return 0


def _read_to_end(consumer: Any) -> Iterator[Any]:
    while True:
        yield from consumer
        if caught_up(consumer):
            return


def messages_since(consumer: KafkaConsumer, start: datetime) -> dict[str, int]:
    """Messages each topic received since ``start``, from its offsets (Kafka's record timestamps); empty topics left out."""
    partitions = [
        TopicPartition(spec.name, p)
        for spec in TOPICS
        for p in sorted(consumer.partitions_for_topic(spec.name) or ())
    ]
    if not partitions:
        return {}
    ends = consumer.end_offsets(partitions)
    at = consumer.offsets_for_times({tp: int(start.timestamp() * 1000) for tp in partitions})
    counts: dict[str, int] = {}
    for tp in partitions:
        found = at.get(tp)
        n = ends[tp] - found.offset if found is not None else 0
        if n > 0:
            counts[tp.topic] = counts.get(tp.topic, 0) + n
    return counts


def consumer_lag(base_url: str, timeout: float = 5.0) -> tuple[dict[str, float] | None, str]:
    """The consumer lag per service from Prometheus (``news_consumer_lag``), or None and why not."""
    url = f"{base_url.rstrip('/')}/api/v1/query?" + urllib.parse.urlencode({"query": LAG_QUERY})
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (the operator's URL)
            body = json.load(response)
        series = body["data"]["result"]
        lag = {s["metric"].get("service", "?"): float(s["value"][1]) for s in series}
    except (OSError, ValueError, KeyError, TypeError) as error:
        return None, f"Prometheus at {base_url} unreachable ({error}): lag per stage left out."
    return lag, ""
