"""End to end on the real broker: the seeds in through `newswatch submit`, alerts, duplicates and dead letters out."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from services.alerts.events import EventFolder
from services.alerts.settings import AlertsSettings
from services.stages import STAGES
from shared.schemas import (
    Alert,
    CleanArticle,
    DeadLetter,
    DuplicateNotice,
    EnrichedArticle,
    StoryRecord,
    event_record,
)
from shared.topics import (
    ALERTS,
    CLEAN_ARTICLES,
    DEAD_LETTERS,
    DUPLICATES,
    ENRICHED_ARTICLES,
    EVENT_ALERTS,
    EVENT_MENTIONS,
    RAW_ARTICLES,
    SERVICES,
)
from tests.integration.harness import NEWSWATCH, REPO, RunningPipeline
from tests.integration.kafkautil import TopicReader, produce, wait_caught_up

SEEDS = sorted((REPO / "seeds").glob("*.txt"))
DUMP = "004_216fda9d4ad3e29a.txt"
RUN = uuid.uuid4().hex[:8]
# Invalid against the raw-article schema (text must be a string): clean must dead-letter it.
MALFORMED = json.dumps({"id": f"malformed-{RUN}", "text": 42}).encode()
GOOD_AFTER = json.dumps(
    {
        "id": f"good-{RUN}",
        "title": "Marines arrive in Norway",
        "text": "About 300 U.S. Marines arrived in Norway on Tuesday for a six-month deployment, the Norwegian "
        "military said.\n\nThe troops will train in the Arctic, officials said.",
    }
).encode()


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


SEED_TEXT = squash(" ".join(p.read_text(encoding="utf-8") for p in SEEDS))


@pytest.fixture(scope="module")
def submitted(pipeline: RunningPipeline) -> RunningPipeline:
    """The five seeds via the CLI, then a malformed message and a good one after it."""
    out = subprocess.run(
        [*NEWSWATCH, "submit", "--bootstrap", pipeline.bootstrap, "seeds/"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert f"submitted {len(SEEDS)} message(s) to {RAW_ARTICLES.name}" in out.stdout
    produce(pipeline.bootstrap, RAW_ARTICLES.name, [MALFORMED, GOOD_AFTER])
    return pipeline


def read(pipeline: RunningPipeline, topic: str) -> TopicReader:
    return TopicReader(pipeline.bootstrap, topic)


def test_a_troop_movement_alert_cites_a_seed_sentence_about_russian_personnel(submitted):
    reader = read(submitted, ALERTS.name)

    def found(records):
        for r in records:
            alert = Alert.model_validate_json(r.value)
            evidence = squash(alert.evidence)
            if (
                alert.rule_id == "troop_movement"
                and evidence in SEED_TEXT
                and "Russia" in evidence
                and re.search(r"\b(arriv|sent|send|land|deploy|flew|disembark)", evidence)
            ):
                return True
        return False

    reader.wait_for(found, timeout=120, what="a troop_movement alert on a seed sentence")
    reader.close()


def test_second_copies_in_the_dump_are_duplicates_and_never_add_an_alert(submitted):
    clean = read(submitted, CLEAN_ARTICLES.name)
    parts = clean.wait_for(
        lambda rs: sum(1 for r in rs if CleanArticle.model_validate_json(r.value).parent_id) >= 6,
        timeout=120,
        what="the six stories of the dump",
    )
    dump_parts = [
        a for a in (CleanArticle.model_validate_json(r.value) for r in parts) if a.parent_id
    ]
    part_ids = {a.article_id for a in dump_parts}

    dups = read(submitted, DUPLICATES.name)
    records = dups.wait_for(
        lambda rs: (
            sum(
                1 for r in rs if DuplicateNotice.model_validate_json(r.value).article_id in part_ids
            )
            >= 3
        ),
        timeout=120,
        what="three duplicate notices for the dump's second copies",
    )
    notices = [
        n
        for n in (DuplicateNotice.model_validate_json(r.value) for r in records)
        if n.article_id in part_ids
    ]
    by_id = {a.article_id: a for a in dump_parts}
    for notice in notices:
        # a copy repeats a story that came earlier in the same dump
        assert by_id[notice.duplicate_of].part < by_id[notice.article_id].part
    copies = {n.article_id for n in notices}

    # Everything submitted has gone through alerts before we judge what alerts produced.
    wait_through_alerts(submitted)
    enriched = read(submitted, ENRICHED_ARTICLES.name).read_to_end()
    assert not copies & {EnrichedArticle.model_validate_json(r.value).article_id for r in enriched}
    alerts = [
        Alert.model_validate_json(r.value) for r in read(submitted, ALERTS.name).read_to_end()
    ]
    assert alerts, "no alert at all"
    assert not copies & {a.article_id for a in alerts}
    distinct = {(a.alert_id) for a in alerts}
    evidence = {squash(a.evidence).lower() for a in {a.alert_id: a for a in alerts}.values()}
    assert len(evidence) == len(distinct), "two alerts repeat one evidence sentence"


def wait_through_alerts(pipeline) -> None:
    """Until every stage has read all its input, in pipeline order.

    In order, so a stage's input is complete when its wait starts: the stage before it has read
    all of its own and publishes before it commits. A later stage alone could look caught up on
    a topic its upstream has not written to yet.
    """
    for stage in STAGES:
        wait_caught_up(
            pipeline.bootstrap, pipeline.group(stage.service), stage.consumes.name, timeout=180
        )


def test_a_malformed_message_is_dead_lettered_and_the_next_one_is_processed(submitted):
    dlq = read(submitted, DEAD_LETTERS["clean"].name)
    records = dlq.wait_for(
        lambda rs: any(DeadLetter.model_validate_json(r.value).original == MALFORMED for r in rs),
        timeout=120,
        what="the malformed message",
    )
    letter = next(
        d
        for d in (DeadLetter.model_validate_json(r.value) for r in records)
        if d.original == MALFORMED
    )
    assert (letter.service, letter.reason, letter.source_topic) == (
        "clean",
        "invalid_schema",
        RAW_ARTICLES.name,
    )
    assert letter.offset is not None and letter.partition is not None and "text" in letter.error

    enriched = read(submitted, ENRICHED_ARTICLES.name)
    enriched.wait_for(
        lambda rs: any(
            EnrichedArticle.model_validate_json(r.value).article_id == f"good-{RUN}" for r in rs
        ),
        timeout=120,
        what="the good message after the bad one",
    )


def newswatch_alerts(pipeline: RunningPipeline, *options: str) -> str:
    return newswatch(pipeline, "alerts", "--from-beginning", *options)


def newswatch(pipeline: RunningPipeline, command: str, *options: str) -> str:
    """A `newswatch` reading command against the pipeline's broker; its output."""
    out = subprocess.run(
        [*NEWSWATCH, command, *options, "--bootstrap", pipeline.bootstrap],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_newswatch_alerts_prints_the_events_readably_and_as_json_and_the_alerts_with_raw(submitted):
    reader = read(submitted, ALERTS.name)
    reader.wait_for(lambda rs: len(rs) > 0, timeout=120, what="an alert")
    alert_ids = {Alert.model_validate_json(r.value).alert_id for r in reader.poll()}
    reader.close()
    # Every alert gives one event record, on the event-alert or the event-mention topic.
    events = [read(submitted, EVENT_ALERTS.name), read(submitted, EVENT_MENTIONS.name)]
    deadline = time.monotonic() + 120
    while not alert_ids <= {
        event_record(json.loads(r.value)).alert_id for e in events for r in e.poll()
    }:
        assert time.monotonic() < deadline, "the events step did not fold every alert within 120 s"
    for e in events:
        e.close()

    records = [
        event_record(json.loads(line))
        for line in newswatch_alerts(submitted, "--json").splitlines()
    ]
    pairs = [(r.event_id, r.alert_id) for r in records]
    assert len(set(pairs)) == len(pairs), "a record shown twice"
    assert alert_ids <= {r.alert_id for r in records}, "--json hides records (mentions included)"
    news = [r for r in records if r.status == "new"]
    mentions = [r for r in records if r.status == "mention"]
    assert news and mentions  # the seeds restate the Caracas deployment

    readable = newswatch_alerts(submitted)
    for new in news:
        assert f"NEW EVENT · {new.rule_id}" in readable and f"event {new.event_id[:8]}" in readable
        assert squash(new.evidence)[:60] in squash(readable)
    # mentions are counted, not printed one by one (more may have come since the --json run)
    counted = [
        int(n) for n in re.findall(r"^  \+ (\d+) mentions? · ", readable, flags=re.MULTILINE)
    ]
    assert sum(counted) >= len(mentions)

    alerts = [
        Alert.model_validate_json(line)
        for line in newswatch_alerts(submitted, "--raw", "--json").splitlines()
    ]
    assert (
        alerts
        and len({a.alert_id for a in alerts}) == len(alerts)
        and alert_ids <= {a.alert_id for a in alerts}
    )
    raw = newswatch_alerts(submitted, "--raw")
    assert alerts[0].rule_id in raw and squash(alerts[0].evidence)[:60] in squash(raw)


def test_newswatch_stories_shows_the_seeds_as_one_story(submitted):
    reader = read(submitted, ALERTS.name)
    seed_alerts = reader.wait_for(
        lambda rs: (
            sum(squash(Alert.model_validate_json(r.value).evidence) in SEED_TEXT for r in rs) >= 5
        ),
        timeout=180,
        what="the seeds' alerts",
    )
    reader.close()
    stories_of_seeds = Counter(
        a.story_id
        for a in (Alert.model_validate_json(r.value) for r in seed_alerts)
        if squash(a.evidence) in SEED_TEXT
    )
    (story_id,) = stories_of_seeds  # the seeds' alerts all tell one story
    assert story_id is not None

    def newswatch_stories(*options: str) -> str:
        return newswatch(submitted, "stories", "--top", "0", *options)

    records = [
        StoryRecord.model_validate_json(line) for line in newswatch_stories("--json").splitlines()
    ]
    assert len({r.story_id for r in records}) == len(records), "a story shown twice"
    (seeds,) = [r for r in records if r.story_id == story_id]
    assert seeds.size >= 5 and {"RU", "VE"} <= set(seeds.countries)
    assert f"story {story_id[:8]} · {seeds.size} articles" in newswatch_stories()


def test_every_seed_alert_gets_the_event_record_the_core_gives_in_the_order_the_alerts_arrived(
    submitted,
):
    """Issue 11 through the Kafka pipeline: every seed alert gets one event record, none lost, as the core decides.

    The count of new events depends on the order articles reach the alerts stage, which Kafka's
    partitions do not fix: four seed articles have no date (their time is when they were
    ingested, today) and one file holds stories of March 2019, so when a 2019 story is folded
    first its events are closed by the next article, seven years later by the window, and the
    movement opens again (2 to 4 new events over the orders of the five files). What holds in
    every order: the events stage decides what ``EventFolder`` decides over the alerts in the
    order of their topic (one bucket, one partition). The done-when in file order (at most three new events,
    the Caracas arrival one of them) is ``newswatch process``'s, in tests/cli/test_main.py.
    """
    wait_through_alerts(submitted)
    wait_caught_up(submitted.bootstrap, submitted.group("alerts"), ALERTS.name, timeout=180)
    arrived = sorted(
        read(submitted, ALERTS.name).read_to_end(), key=lambda r: (r.partition, r.offset)
    )
    alerts = [Alert.model_validate_json(r.value) for r in arrived]
    seed_alerts = {a.alert_id for a in alerts if squash(a.evidence) in SEED_TEXT}
    assert len(seed_alerts) >= 10, "the seeds' troop sentences did not alert"
    records = {}
    for spec in (EVENT_ALERTS, EVENT_MENTIONS):
        for r in read(submitted, spec.name).read_to_end():
            record = event_record(json.loads(r.value))
            records.setdefault(record.alert_id, record)  # a replay repeats the same record
    assert seed_alerts <= set(records), "an alert without its event record"
    # The core over the same alerts in the same order (buckets are independent: one store is theirs).
    folder = EventFolder({}, window=timedelta(days=AlertsSettings().alerts_event_window_days))
    expected = {}
    for alert in alerts:
        expected.setdefault(alert.alert_id, folder.fold(alert))

    def decided(r):
        return (r.status, r.event_key, r.event_id, tuple(r.added))

    assert {a: decided(records[a]) for a in seed_alerts} == {
        a: decided(expected[a]) for a in seed_alerts
    }
    ours = [records[a] for a in seed_alerts]
    # The Russian arrival opened an event. Its first alert in topic order may quote a sentence
    # clean normalised (not verbatim in SEED_TEXT), so every record of the run counts here; the
    # run holds only the seeds' troop alerts (and a Norway one, the good message).
    # Which alert opens it depends on the order (its key may be filled in by a later report):
    # the event that ends up Russia into Venezuela was opened once.
    arrival = {r.event_id for r in records.values() if r.event_key == "troop_movement|in|RU|VE"}
    assert arrival
    assert any(r.status == "new" and r.event_id in arrival for r in records.values())
    assert sum(r.status == "mention" for r in ours) >= len(ours) // 2  # restatements are not news


def test_every_service_counts_what_it_consumed_produced_and_dead_lettered(submitted):
    wait_through_alerts(submitted)
    for service in SERVICES:
        port = submitted.metrics_ports[service]
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        consumed = re.findall(
            rf'news_messages_consumed_total{{service="{service}",topic="[^"]+"}} (\S+)', body
        )
        assert consumed and sum(map(float, consumed)) > 0, f"{service} consumed nothing"
        assert f'news_processing_seconds_count{{service="{service}"}}' in body
    clean = urllib.request.urlopen(
        f"http://127.0.0.1:{submitted.metrics_ports['clean']}/metrics", timeout=5
    ).read()
    assert re.search(
        rb'news_dead_letters_total{reason="invalid_schema",service="clean"} [1-9]', clean
    )


def test_metrics_listen_on_loopback_only(submitted):
    # faust's web server is off; /metrics binds 127.0.0.1 unless NEWS_METRICS_HOST says otherwise.
    listening = Path("/proc/net/tcp").read_text()
    for service, port in submitted.metrics_ports.items():
        hexport = f":{port:04X} "
        lines = [ln for ln in listening.splitlines() if hexport in ln and ln.split()[3] == "0A"]
        assert lines, f"{service} does not listen on {port}"
        assert all(ln.split()[1].startswith("0100007F") for ln in lines), (
            f"{service} listens beyond loopback"
        )
    assert ":17B2 " not in "".join(
        ln for ln in listening.splitlines() if ln.split()[3] == "0A"
    )  # 6066


def test_a_real_prometheus_scrapes_every_service_and_every_dashboard_query_runs(submitted):
    from tests.integration.prom import Prometheus, dashboard_queries, render_grafana_expr

    wait_through_alerts(submitted)
    targets = {svc: f"127.0.0.1:{port}" for svc, port in submitted.metrics_ports.items()}
    with Prometheus(targets) as prom:
        prom.wait_for_targets(timeout=60)
        for service in SERVICES:
            prom.wait_for(
                f'sum(news_messages_consumed_total{{service="{service}"}}) > 0', timeout=60
            )
        prom.wait_for(
            'news_alerts_fired_total{service="alerts",rule="troop_movement"} > 0', timeout=30
        )
        prom.wait_for('sum(news_duplicates_total{service="dedup"}) >= 3', timeout=30)
        prom.wait_for(
            'news_dead_letters_total{service="clean",reason="invalid_schema"} > 0', timeout=30
        )
        prom.wait_for("sum(faust_messages_received_total) > 0", timeout=30)  # faust's own sensor
        # Every provisioned panel runs on the real series (rates need two scrapes: give them a few).
        import time

        time.sleep(3)
        queries = dashboard_queries()
        assert queries
        empty = [str(q) for q in queries if not prom.query(render_grafana_expr(q.expr))]
        # Throughput panels must show data; a dead-letter panel may rightly be empty for a service
        # that dead-lettered nothing in this run.
        throughput = [
            q
            for q in queries
            if ("consumed" in q.expr or "produced" in q.expr) and "dead_letters" not in q.expr
        ]
        assert throughput and not [q for q in throughput if str(q) in empty], empty


def test_a_5_mb_article_is_dead_lettered_as_oversize_with_its_bytes_and_the_stream_goes_on(
    submitted, tmp_path
):
    # Kafka's default 1 MB limit would refuse it at the door; the input topic takes 16 MiB so that
    # the clean stage can judge it (limit 2 MB) and keep its bytes in the dead letter.
    big = ("Troops were seen near the border on Monday. " * 120_000).encode()[: 5 * 1024 * 1024]
    (tmp_path / "big.txt").write_bytes(big)
    good = (
        f"Sentinel {RUN}: a battalion of Polish troops arrived in Latvia on Friday for exercises."
    )
    (tmp_path / "good.txt").write_text(good)
    out = subprocess.run(
        [*NEWSWATCH, "submit", "--bootstrap", submitted.bootstrap, str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "submitted 2 message(s)" in out.stdout

    dlq = read(submitted, DEAD_LETTERS["clean"].name)
    records = dlq.wait_for(
        lambda rs: any(DeadLetter.model_validate_json(r.value).reason == "oversize" for r in rs),
        timeout=120,
        what="the oversize dead letter",
    )
    letter = next(
        d
        for d in (DeadLetter.model_validate_json(r.value) for r in records)
        if d.reason == "oversize"
    )
    assert letter.original == big
    clean = read(submitted, CLEAN_ARTICLES.name)
    clean.wait_for(
        lambda rs: any(
            f"Sentinel {RUN}" in CleanArticle.model_validate_json(r.value).text for r in rs
        ),
        timeout=120,
        what="the article submitted after the oversize one",
    )
