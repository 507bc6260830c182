"""A stuck stage on the real broker fires NewswatchPipelineStalled in a real Prometheus.

One clean worker on a broker of the test's own, scraped every second by the installed Prometheus
with the project's rules, the stall window shortened to 20 s (``rules_with_stall_window``; the
shipped rule waits 5 minutes). The worker's stage child is stopped (SIGSTOP) while articles wait:
the worker's event loop and its /metrics thread go on, its group commits nothing, and the lag it
exports from the broker (shared.lag) is what the rule sees.
"""

from __future__ import annotations

import json
import signal
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import psutil

from cli.broker import free_port
from cli.prometheus import LocalPrometheus, load_rules, rules_with_stall_window
from cli.run import start_worker, stop_workers, wait_ready
from shared.admin import ensure_topics
from shared.topics import RAW_ARTICLES, TOPICS
from tests.integration.harness import own_broker
from tests.integration.kafkautil import produce
from tests.integration.prom import find_prometheus

ARTICLE = b"Troops were seen near the border on Monday, officials said. " * 5


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def query(prom: LocalPrometheus, expr: str) -> list[dict]:
    return get(f"{prom.url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}")["data"][
        "result"
    ]


def wait_for(what: str, check, timeout: float, prom: LocalPrometheus, log: Path):
    port = next(iter(prom.targets.values())).rsplit(":", 1)[1]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(
        f"no {what} after {timeout:.0f} s; targets: "
        f"{[t['health'] for t in get(f'{prom.url}/api/v1/targets')['data']['activeTargets']]}\n"
        + "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        + "\n".join(
            line
            for line in urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
            .read()
            .decode()
            .splitlines()
            if line.startswith(("news_consumer", "news_messages", "news_dead"))
        )
    )


def stall_alerts(prom: LocalPrometheus) -> list[str]:
    return [
        alert["state"]
        for alert in get(f"{prom.url}/api/v1/alerts")["data"]["alerts"]
        if alert["labels"]["alertname"] == "NewswatchPipelineStalled"
        and alert["labels"].get("service") == "clean"
    ]


def test_a_stuck_stage_with_waiting_input_fires_the_stall_alert(tmp_path):
    started = time.monotonic()
    with own_broker(tmp_path) as bootstrap:
        port, suffix = free_port(), f"-stall{uuid.uuid4().hex[:6]}"
        log = tmp_path / "clean.log"
        # Before the worker, as `newswatch run` does: a topic made at its start is assigned late.
        ensure_topics(bootstrap, TOPICS, 1)
        worker = start_worker(
            "clean",
            bootstrap,
            log,
            1,
            env={
                "NEWS_GROUP_SUFFIX": suffix,
                "NEWS_DATA_DIR": str(tmp_path / "faust"),
                "NEWS_METRICS_PORT": str(port),
                "NEWS_STAGE_BUDGET_S": "600",  # a stuck child is waited for, not replaced
            },
        )
        stopped: list[psutil.Process] = []
        try:
            wait_ready(bootstrap, [f"clean{suffix}"], {"clean": worker}, timeout=120)
            rules = rules_with_stall_window(load_rules(), "20s", "3s")
            prom = LocalPrometheus(
                find_prometheus(),
                {"clean": f"127.0.0.1:{port}"},
                rules,
                log_path=tmp_path / "prometheus.log",
                scrape_interval="1s",
            )
            prom.start()
            try:
                wait_for(
                    "a scrape of the group before its first commit",
                    lambda: query(prom, 'news_consumer_committed_offset{service="clean"} == 0'),
                    30,
                    prom,
                    log,
                )
                produce(bootstrap, RAW_ARTICLES.name, [ARTICLE])
                wait_for(
                    "commit of the first article",
                    lambda: query(
                        prom,
                        # Prometheus saw the commit happen: the window starts from it
                        'sum(changes(news_consumer_committed_offset{service="clean"}[1m])) >= 1 '
                        'and sum(news_consumer_lag{service="clean"}) == 0',
                    ),
                    60,
                    prom,
                    log,
                )
                committed_at = time.monotonic()
                # Progressing, no lag: quiet. An idle group that receives a message holds the
                # condition for a moment (lag, no commit in the window) and the rules are
                # evaluated every 3 s, so a pending state may linger until the next evaluation.
                wait_for(
                    "the stall alert quiet while progressing",
                    lambda: not stall_alerts(prom),
                    15,
                    prom,
                    log,
                )
                stopped = psutil.Process(worker.pid).children(recursive=True)
                assert stopped, "the clean worker has no stage child to stop"
                for child in stopped:
                    child.send_signal(signal.SIGSTOP)
                produce(bootstrap, RAW_ARTICLES.name, [ARTICLE + bytes([65 + i]) for i in range(3)])
                # The worker still answers /metrics, and its lag comes from the broker.
                wait_for(
                    "lag while the stage is stuck",
                    lambda: query(prom, 'sum(news_consumer_lag{service="clean"}) >= 2'),
                    30,
                    prom,
                    log,
                )
                states: set[str] = set()

                def firing() -> bool:
                    states.update(stall_alerts(prom))
                    return "firing" in states

                wait_for("firing stall alert", firing, 60, prom, log)
                # not before the window has passed without a commit (20 s, less the scrapes' slack)
                assert time.monotonic() - committed_at > 15, states
            finally:
                prom.stop()
        finally:
            for child in stopped:
                try:
                    child.send_signal(signal.SIGCONT)
                except psutil.NoSuchProcess:
                    pass
            stop_workers([worker], 30)
    assert time.monotonic() - started < 150
