"""`newswatch report` on a real broker: the seeds' records on their topics in, the page with their events out.

A broker of its own: the records it publishes must not reach the session broker's pipeline, whose
tests count the seeds' alerts and events.
"""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.schemas import event_record
from shared.topics import DEAD_LETTERS
from tests.integration.harness import NEWSWATCH, REPO, own_broker
from tests.integration.kafkautil import produce

SEEDS = sorted((REPO / "seeds").glob("*.txt"))
DEAD_LETTER = REPO / "seeds" / DEAD_LETTERS["clean"].name / "not-utf8.json"


def newswatch(*args: str) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        [*NEWSWATCH, *args], cwd=REPO, capture_output=True, text=True, check=False, timeout=600
    )
    assert out.returncode == 0, out.stderr
    return out


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker for this module alone (it fails loudly if it cannot start, like the session's)."""
    with own_broker(tmp_path_factory.mktemp("report-kafka")) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="module")
def published(kafka: str) -> list[dict]:
    """What `newswatch process` gives for the seeds, each record on its topic of the session broker, and a dead letter."""
    newswatch("topics", "--bootstrap", kafka)
    records = [
        json.loads(line) for line in newswatch("process", *map(str, SEEDS)).stdout.splitlines()
    ]
    by_topic: dict[str, list[bytes]] = defaultdict(list)
    for record in records:
        by_topic[record["topic"]].append(json.dumps(record["value"]).encode())
    by_topic[DEAD_LETTERS["clean"].name].append(DEAD_LETTER.read_bytes())
    for topic, values in by_topic.items():
        produce(kafka, topic, values)
    return records


def test_newswatch_report_writes_the_seeds_events_stories_and_dead_letters(
    kafka: str, published: list[dict], tmp_path: Path
):
    out = tmp_path / "report.html"
    done = newswatch(
        "report",
        "--bootstrap",
        kafka,
        "--since",
        "3650d",
        "--out",
        str(out),
        "--prometheus",
        "http://127.0.0.1:1",
    )
    assert f"written to {out}" in done.stderr
    page = out.read_text(encoding="utf-8")
    events = [event_record(r["value"]) for r in published if r["kind"] in ("event", "mention")]
    assert events
    for event in events:
        assert event.frame and event.frame.place
        assert f"{event.frame.place.text} ({event.frame.place.country})" in page
    story = next(r["value"] for r in reversed(published) if r["kind"] == "story")
    assert f"<td>{story['story_id'][:8]}</td><td>{story['size']}</td>" in page
    assert f"{len({e.event_id for e in events})} events" in page
    assert "clean: not_utf8" in page  # dead letters by reason
    assert "news.event-alert.v1" in page  # throughput per topic
    assert "Prometheus at http://127.0.0.1:1 unreachable" in page


def test_newswatch_report_keeps_only_the_window(kafka: str, published: list[dict], tmp_path: Path):
    out = tmp_path / "report.html"
    newswatch("report", "--bootstrap", kafka, "--since", "1h", "--out", str(out))
    page = out.read_text(encoding="utf-8")
    # the seeds were published in 2019: their dated reports and the 2019 dead letter fall out
    assert "No dead letters in the window." in page
    assert "Why Russia just sent troops to Venezuela" not in page
