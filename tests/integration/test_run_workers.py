"""`newswatch run --workers entities=2` on the real broker: two members, a partition each, the seeds through, a clean stop."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.parse
import urllib.request

from kafka.admin import KafkaAdminClient

from shared.schemas import StoriedArticle
from shared.topics import (
    CLEAN_ARTICLES,
    ENRICHED_ARTICLES,
    RAW_ARTICLES,
    STORIED_ARTICLES,
    UNIQUE_ARTICLES,
)
from tests.integration.harness import NEWSWATCH, REPO, RunningPipeline, own_broker, running_pipeline
from tests.integration.kafkautil import TopicReader, wait_caught_up

CONSUMED = re.compile(
    r'^news_messages_consumed_total\{service="entities",topic="news\.unique-article\.v1"\} (\S+)$',
    re.M,
)


def test_two_entities_workers_take_a_partition_each_and_the_seeds_go_through(tmp_path):
    # A broker of its own: the run's workers would otherwise read the session pipeline's topics.
    with (
        own_broker(tmp_path) as bootstrap,
        running_pipeline(bootstrap, tmp_path, workers={"entities": 2}) as run,
    ):
        output = "".join(run.output)
        for name in ("entities", "entities-2"):
            assert (
                f"  {name:10s} metrics http://127.0.0.1:{run.worker_ports[name]}/metrics" in output
            )
        members = group_members(bootstrap, run.group("entities"))
        assert sorted(members) == ["entities", "entities-2"], members
        assert sorted(members.values()) == [[0], [1]], members  # --partitions 2: one each

        unique = submit_seeds(run)
        enriched = TopicReader(bootstrap, ENRICHED_ARTICLES.name)
        storied = TopicReader(bootstrap, STORIED_ARTICLES.name)
        try:
            for reader in (enriched, storied):
                reader.wait_for(
                    lambda rs: {json.loads(r.value)["article_id"] for r in rs} >= unique.keys(),
                    timeout=60,
                    what=f"the {len(unique)} unique seed articles",
                )
            stories = [StoriedArticle.model_validate_json(r.value) for r in storied.records]
            assert all(article.story_id for article in stories)  # through the stories stage
        finally:
            enriched.close()
            storied.close()

        # Each worker counts what it consumed, under the service's word, on its own port.
        consumed = {name: consumed_by(run.worker_ports[name]) for name in members}
        assert sum(consumed.values()) == len(unique), consumed
        # Keyed by their ids, the seeds' unique articles fall on both partitions (5 and 2): each
        # worker had its share.
        assert len(set(unique.values())) == 2 and all(consumed.values()), (unique, consumed)
        assert_prometheus_scrapes_both(run)
    # running_pipeline's exit: Ctrl-C, exit 0, and no worker process left (both entities included)


def group_members(bootstrap: str, group: str, timeout: float = 60) -> dict[str, list[int]]:
    """Client id -> its partitions of the entities input, once the group is Stable with two members."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    deadline = time.monotonic() + timeout
    try:
        while True:
            info = admin.describe_groups([group])[group]
            members = {
                m["client_id"]: sorted(
                    p
                    for t in m["member_assignment"]["assigned_partitions"]
                    if t["topic"] == UNIQUE_ARTICLES.name
                    for p in t["partitions"]
                )
                for m in info["members"]
            }
            if info["group_state"] == "Stable" and len(info["members"]) == 2:
                return members
            assert time.monotonic() < deadline, info
            time.sleep(0.5)
    finally:
        admin.close()


def submit_seeds(run: RunningPipeline) -> dict[str, int]:
    """The seeds in through `newswatch submit`; the unique articles dedup made of them, by id, with their partition."""
    out = subprocess.run(
        [*NEWSWATCH, "submit", "--bootstrap", run.bootstrap, "seeds/"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    # clean first: dedup is caught up on clean's output only once clean has made all of it
    wait_caught_up(run.bootstrap, run.group("clean"), RAW_ARTICLES.name, timeout=60)
    wait_caught_up(run.bootstrap, run.group("dedup"), CLEAN_ARTICLES.name, timeout=60)
    reader = TopicReader(run.bootstrap, UNIQUE_ARTICLES.name)
    try:
        records = reader.read_to_end()
    finally:
        reader.close()
    assert records, "dedup let no seed article through"
    return {json.loads(r.value)["article_id"]: r.partition for r in records}


def consumed_by(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        body = response.read().decode()
    found = CONSUMED.search(body)
    return float(found.group(1)) if found else 0.0


def assert_prometheus_scrapes_both(run: RunningPipeline, timeout: float = 30) -> None:
    """The local Prometheus: one entities job, a target per worker, the series keeping service="entities"."""
    url = re.search(r"Prometheus at (http://127\.0\.0\.1:\d+)", "".join(run.output))
    assert url, "".join(run.output)
    query = urllib.parse.quote(
        'count by (job, service) (news_processing_seconds_count{job="entities"})'
    )
    deadline = time.monotonic() + timeout
    while True:
        with urllib.request.urlopen(f"{url.group(1)}/api/v1/query?query={query}", timeout=5) as r:
            result = json.load(r)["data"]["result"]
        if result and result[0]["value"][1] == "2":
            assert result[0]["metric"] == {"job": "entities", "service": "entities"}, result
            return
        assert time.monotonic() < deadline, result
        time.sleep(1)
