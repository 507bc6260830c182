"""``newswatch alerts``: print the alerts topic, readable or as JSON lines."""

from __future__ import annotations

import argparse
import sys

from cli.connect import bootstrap_of, connecting, kafka_security
from shared.topics import ALERTS


def cmd_alerts(args: argparse.Namespace) -> int:
    """Print alerts: those this group has not seen yet (or all with --from-beginning); --follow waits."""
    from kafka import KafkaConsumer, TopicPartition

    from shared.schemas import Alert

    bootstrap, security = bootstrap_of(args), kafka_security()
    from cli.settings import CliSettings

    group = None if args.from_beginning else (args.group or CliSettings().alerts_group)
    with connecting(bootstrap, security):
        consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=group,
                                 auto_offset_reset="earliest", enable_auto_commit=group is not None,
                                 consumer_timeout_ms=1000, **security)
    partitions = [TopicPartition(ALERTS.name, p) for p in (consumer.partitions_for_topic(ALERTS.name) or [])]
    if not partitions:
        print(f"newswatch: topic {ALERTS.name} does not exist yet (is `newswatch run` up?)", file=sys.stderr)
        return 1
    if group is None:
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
    else:
        consumer.subscribe([ALERTS.name])
    seen: set[str] = set()  # at-least-once delivery may repeat an alert; its id is stable
    try:
        while True:
            for record in consumer:
                try:
                    alert = Alert.model_validate_json(record.value)
                except ValueError as error:
                    print(f"newswatch: unreadable alert at offset {record.offset}: {error}", file=sys.stderr)
                    continue
                if alert.alert_id in seen:
                    continue
                seen.add(alert.alert_id)
                print(alert.model_dump_json() if args.json else format_alert(alert), flush=True)
            if not args.follow and _caught_up(consumer):
                break
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
    return 0


def _caught_up(consumer: object) -> bool:
    assignment = consumer.assignment()  # type: ignore[attr-defined]
    if not assignment:
        return False
    ends = consumer.end_offsets(list(assignment))  # type: ignore[attr-defined]
    return all(consumer.position(tp) >= end for tp, end in ends.items())  # type: ignore[attr-defined]


def format_alert(alert: object) -> str:
    """A readable alert: when, which rule, where from, the evidence and its entities."""
    from shared.schemas import Alert

    assert isinstance(alert, Alert)
    where = " · ".join(x for x in (alert.source, alert.title) if x) or alert.article_id
    entities = ", ".join(f"{e.canonical or e.text} ({e.label})" for e in alert.entities)
    lines = [
        f"[{alert.fired_at:%Y-%m-%d %H:%M:%S}] {alert.rule_id}: {where}",
        f"  “{alert.evidence}”",
    ]
    if entities:
        lines.append(f"  entities: {entities}")
    if alert.url:
        lines.append(f"  {alert.url}")
    return "\n".join(lines)
