"""Hot reload of the alerts rules on the real broker: an edited rules file is in force within 5 s, an invalid one is rejected with a log line and the previous rules stay."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import yaml

from cli.broker import free_port
from cli.run import start_worker, stop_workers
from services.alerts.rules import RULES_PATH
from shared.admin import ensure_topics
from shared.schemas import Alert, EnrichedArticle
from shared.topics import ALERTS, STORIED_ARTICLES, TOPICS
from tests.factories import split_sentences
from tests.integration.harness import own_broker
from tests.integration.kafkautil import TopicReader, produce

SHIPS = {
    "id": "warships",
    "severity": "low",
    "candidates": {"words": ["warship"]},
    "patterns": {"ship": [[{"LEMMA": "warship"}]]},
    "conditions": [{"tokens": "ship"}],
}
# The shipped rules that fire on TEXT (naval_deployment: the warships sailing into Tartus).
SHIPPED = {"troop_movement", "naval_deployment"}
BOTH = {*SHIPPED, "warships"}
TEXT = "Two warships sailed into the port of Tartus on Monday. Russia sent 300 troops to Syria."


def article(article_id: str) -> bytes:
    return EnrichedArticle(
        article_id=article_id,
        text=TEXT,
        ingested_at=datetime.now(UTC),
        sentences=split_sentences(TEXT),
    ).to_bytes()


def write_rules(path: Path, *extra: dict) -> None:
    shipped = yaml.safe_load(RULES_PATH.read_text(encoding="utf-8"))
    # The shipped rules name their examples relative to the rules file: bring them along.
    examples = path.parent / "examples"
    if not examples.exists():
        examples.symlink_to(RULES_PATH.parent / "examples", target_is_directory=True)
    data = {"rules": [*shipped["rules"], *extra]}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    tmp.replace(path)  # as an editor saves: the worker never reads half a file


def rules_fired(
    reader: TopicReader, article_id: str, expected: set[str], timeout: float
) -> set[str]:
    """The rules that fired on ``article_id``, once every rule of ``expected`` has (or at the timeout).

    Waiting for the whole set, not for the first alert: under load the alerts of one message can
    reach the topic seconds apart.
    """

    def fired(records) -> set[str]:
        return {
            a.rule_id
            for a in (Alert.model_validate_json(r.value) for r in records)
            if a.article_id == article_id
        }

    try:
        reader.wait_for(
            lambda rs: fired(rs) >= expected, timeout=timeout, what=f"alerts on {article_id}"
        )
    except AssertionError:
        pass  # the caller's comparison says what is missing
    return fired(reader.records)


def test_an_edited_rules_file_takes_effect_within_5_s_and_an_invalid_one_is_rejected(tmp_path):
    # A broker of its own: on the session broker, the end-to-end pipeline's alerts worker reads the
    # same topic and answers with the shipped rules, before this worker has even started.
    with own_broker(tmp_path) as kafka:
        reload_rules_on(kafka, tmp_path)


def reload_rules_on(kafka: str, tmp_path: Path) -> None:
    ensure_topics(kafka, TOPICS, 1)
    run = uuid.uuid4().hex[:6]
    rules = tmp_path / "rules.yaml"
    write_rules(rules)
    log = tmp_path / "alerts.log"
    worker = start_worker(
        "alerts",
        kafka,
        log,
        1,
        env={
            "NEWS_GROUP_SUFFIX": f"-reload-{run}",
            "NEWS_METRICS_PORT": str(free_port()),
            "NEWS_DATA_DIR": str(tmp_path / "faust"),
            "NEWS_ALERTS_RULES": str(rules),
        },
    )
    reader = TopicReader(kafka, ALERTS.name)
    try:
        produce(kafka, STORIED_ARTICLES.name, [article(f"before-{run}")])
        assert rules_fired(reader, f"before-{run}", SHIPPED, timeout=240) == SHIPPED

        write_rules(rules, SHIPS)
        edited = time.time()
        time.sleep(1.2)  # one check interval (NEWS_ALERTS_RULES_CHECK_S = 1 s)
        produce(kafka, STORIED_ARTICLES.name, [article(f"edited-{run}")])
        assert rules_fired(reader, f"edited-{run}", BOTH, timeout=60) == BOTH
        ships = [
            a
            for a in (Alert.model_validate_json(r.value) for r in reader.records)
            if a.article_id == f"edited-{run}" and a.rule_id == "warships"
        ]
        assert ships[0].fired_at.timestamp() - edited < 5.0

        rules.write_text(
            "rules:\n  - id: broken\n    conditions: [{tokens: nowhere}]\n", encoding="utf-8"
        )
        time.sleep(1.2)
        produce(kafka, STORIED_ARTICLES.name, [article(f"invalid-{run}")])
        assert rules_fired(reader, f"invalid-{run}", BOTH, timeout=60) == BOTH
        text = log.read_text(errors="replace")
        assert "rules file rejected, the previous rules stay in force" in text
        assert f"{rules}: rule broken" in text
        assert worker.poll() is None
    finally:
        reader.close()
        stop_workers([worker])
