"""`newswatch report`'s page from records: the seeds' events, countries and stories, escaped titles, offline in Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cli.main import build_parser
from cli.report.build import ReportInput, build_report
from cli.report.command import parse_duration
from shared.schemas import DeadLetter, EventAlert, Frame, FrameParty, StoryRecord, event_record

REPO = Path(__file__).resolve().parents[2]
SEEDS = sorted((REPO / "seeds").glob("*.txt"))
SCRIPT = "<script>alert(1)</script>"
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
# Any script, stylesheet or image fetched from the network: the page must need none.
REMOTE = re.compile(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*["']?https?://""", re.I)


def event(n: int, *, title: str = "Troops arrive", country: str = "VE", hours_ago: float = 1):
    when = NOW - timedelta(hours=hours_ago)
    return EventAlert(
        event_id=f"event-{n}",
        status="new",
        event_key=f"troop_movement|in|RU|{country}",
        rule_id="troop_movement",
        frame=Frame(
            actor=FrameParty(text="Russia", country="RU"),
            action="deploy",
            place=FrameParty(text=f"Place{n}", country=country),
            count=100,
            equipment=["Il-62"],
        ),
        first_seen=when,
        last_seen=when,
        reports=1,
        mentions=0,
        articles=1,
        alert_id=f"alert-{n}",
        article_id=f"article-{n}",
        sentence_index=0,
        evidence="Russian troops arrived.",
        title=title,
        published_at=when,
        story_id="story-1",
    )


def page_of(events, stories=(), dead=(), **more) -> str:
    return build_report(
        ReportInput(events, stories, dead, now=NOW, since=timedelta(hours=24), **more)
    )


def test_an_article_title_is_escaped_never_markup():
    page = page_of([event(1, title=f"Troops {SCRIPT} arrive")])
    assert SCRIPT not in page
    assert "Troops &lt;script&gt;alert(1)&lt;/script&gt; arrive" in page


def test_the_page_loads_nothing_from_the_network():
    page = page_of([event(1)])
    assert not REMOTE.search(page)
    assert page.count("plotly-graph-div") >= 2  # the figures are there, their script inlined


def test_plotly_is_defined_before_any_figure_uses_it():
    dead = DeadLetter(
        service="clean",
        reason="not_utf8",
        error_type="UnicodeDecodeError",
        error="x",
        original_b64="",
        failed_at=NOW,
    )
    page = page_of([event(1)], dead=[dead], throughput={"news.raw-article.v1": 3}, lag={"clean": 1})
    bundle = page.index("plotly.js v")
    assert page.count("plotly.js v") == 1
    assert bundle < page.index("Plotly.newPlot")
    assert (
        page.count("Plotly.newPlot") == int(re.search(r'data-figures="(\d+)"', page).group(1)) == 5
    )


def test_records_outside_the_window_are_left_out():
    page = page_of([event(1, country="VE"), event(2, country="SY", hours_ago=30)])
    assert "Place1" in page and "Place2" not in page


def test_dead_letters_are_counted_by_service_and_reason():
    dead = DeadLetter(
        service="clean",
        reason="invalid_json",
        error_type="ValidationError",
        error="x",
        original_b64="",
        failed_at=NOW,
    )
    page = page_of([], dead=[dead, dead])
    assert "clean: invalid_json" in page and "No dead letters" not in page


def test_lag_is_a_note_when_prometheus_is_not_reachable_and_a_chart_when_it_is():
    note = "Prometheus at http://127.0.0.1:1 unreachable"
    assert note in page_of([event(1)], lag=None, lag_note=note)
    assert "news_consumer_lag" in page_of([event(1)], lag={"clean": 3.0, "alerts": 0.0})


def test_report_options_parse():
    args = build_parser().parse_args(["report", "--since", "7d", "--out", "r.html"])
    assert (args.since, args.out, args.prometheus) == (timedelta(days=7), "r.html", None)
    assert parse_duration("1d12h") == timedelta(hours=36)
    assert parse_duration("90m") == timedelta(minutes=90)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["report", "--since", "yesterday"])


# ----------------------------------------------------------------- the seeds, through the stages


@pytest.fixture(scope="module")
def seeds_page(tmp_path_factory) -> tuple[str, list[EventAlert], list[StoryRecord]]:
    """The report of `newswatch process` on the seeds, one title made hostile."""
    out = subprocess.run(
        [sys.executable, "-m", "cli.main", "process", *map(str, SEEDS)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    records = [json.loads(line) for line in out.stdout.splitlines()]
    events = [event_record(r["value"]) for r in records if r["kind"] in ("event", "mention")]
    events[-1] = events[-1].model_copy(update={"title": f"Hostile {SCRIPT}"})
    stories = [StoryRecord.model_validate(r["value"]) for r in records if r["kind"] == "story"]
    # the seeds were published in 2019: a window back to then
    page = build_report(
        ReportInput(events, stories, [], now=datetime.now(UTC), since=timedelta(days=3650))
    )
    return page, events, stories


@pytest.mark.slow
def test_the_seeds_page_shows_their_events_countries_and_story(seeds_page):
    page, events, stories = seeds_page
    for event_id in {e.event_id for e in events}:
        latest = max((e for e in events if e.event_id == event_id), key=lambda e: e.reports)
        assert latest.frame and latest.frame.place
        assert f"<td>{latest.frame.place.text} ({latest.frame.place.country})</td>" in page
        assert f"<td>{latest.reports}</td>" in page
    assert "<td>VE</td>" in page and "<td>RU</td>" not in page  # places by their country
    story = stories[-1]
    assert f"<td>{story.story_id[:8]}</td><td>{story.size}</td>" in page
    assert "Hostile &lt;script&gt;" in page and SCRIPT not in page
    assert not REMOTE.search(page)


@pytest.mark.slow
def test_the_seeds_page_renders_offline_in_headless_chromium(seeds_page, tmp_path):
    from evaluation.report.browser import render

    page, events, _ = seeds_page
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    figures = page.count('class="plotly-graph-div"')
    assert figures == int(re.search(r'data-figures="(\d+)"', page).group(1)) >= 2
    shot = tmp_path / "report.png"
    seen = render(path, figures, screenshot=shot)
    assert (seen.plots, seen.drawn) == (figures, figures)
    assert seen.blocked == [] and seen.errors == []
    assert "Venezuela (VE)" in seen.text and "troop_movement" in seen.text
    assert shot.stat().st_size > 10_000
    artifacts = REPO / ".test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shutil.copy(shot, artifacts / "report.png")


def test_lag_per_stage_is_read_from_prometheus_query_api_and_a_dead_url_is_a_note():
    import http.server
    import threading

    from cli.report.command import LAG_QUERY, consumer_lag

    asked = []

    class Prometheus(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            asked.append(self.path)
            body = {
                "status": "success",
                "data": {
                    "resultType": "vector",
                    "result": [
                        {"metric": {"service": "entities"}, "value": [0, "340"]},
                        {"metric": {"service": "clean"}, "value": [0, "0"]},
                    ],
                },
            }
            self.send_response(200)
            self.end_headers()
            self.wfile.write(json.dumps(body).encode())

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Prometheus)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        lag, note = consumer_lag(f"http://127.0.0.1:{server.server_port}/")
    finally:
        server.shutdown()
    assert (lag, note) == ({"entities": 340.0, "clean": 0.0}, "")
    assert "/api/v1/query?query=" in asked[0] and "news_consumer_lag" in LAG_QUERY
    lag, note = consumer_lag(f"http://127.0.0.1:{server.server_port}", timeout=1)
    assert lag is None and "unreachable" in note
