"""``newswatch submit``: send files, folders, JSON lines or stdin onto the input topic."""

from __future__ import annotations

import argparse
import sys

from kafka import KafkaProducer
from kafka.errors import KafkaError
from tqdm import tqdm

from cli.connect import bootstrap_of, connecting, kafka_security
from cli.inputs import read_inputs
from shared.topics import MAX_MESSAGE_BYTES, RAW_ARTICLES


def cmd_submit(args: argparse.Namespace) -> int:
    """Send files, folders, JSON lines or stdin onto the input topic."""
    items = list(read_inputs(args.paths))
    bootstrap, security = bootstrap_of(args), kafka_security()
    with connecting(bootstrap, security):
        producer = KafkaProducer(
            bootstrap_servers=bootstrap.split(","),
            acks="all",
            linger_ms=5,
            max_request_size=MAX_MESSAGE_BYTES,
            **security,
        )
    pending = []
    failed = 0
    try:
        for origin, value in tqdm(
            items, unit="msg", disable=len(items) < 10 or not sys.stderr.isatty()
        ):
            try:
                pending.append((origin, producer.send(RAW_ARTICLES.name, value=value)))
            except KafkaError as error:  # e.g. larger than the topic takes: say which, go on
                print(f"newswatch: {origin}: not sent: {error}", file=sys.stderr)
                failed += 1
        for origin, future in pending:
            try:
                future.get(timeout=60)
            except KafkaError as error:
                print(f"newswatch: {origin}: not sent: {error}", file=sys.stderr)
                failed += 1
    finally:
        producer.close(timeout=10)
    print(
        f"submitted {len(items) - failed} message(s) to {RAW_ARTICLES.name}"
        + (f"; {failed} failed" if failed else "")
    )
    return 1 if failed else 0
