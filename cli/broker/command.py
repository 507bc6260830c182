"""``python -m cli.broker start`` and ``newswatch broker``: a foreground broker."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from cli.broker.paths import DEFAULT_DATA_DIR, DEFAULT_PORT
from cli.broker.process import LocalKafka
from shared.admin import BrokerError


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m cli.broker``."""
    parser = argparse.ArgumentParser(
        prog="python -m cli.broker", description="Run the local single-node KRaft Kafka broker."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="run the local broker in the foreground until Ctrl-C")
    start.add_argument("--port", type=int, default=DEFAULT_PORT)
    start.add_argument("--controller-port", type=int, default=None)
    start.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    start.add_argument(
        "--fresh", action="store_true", help="wipe the data dir first (new cluster id)"
    )
    start.add_argument("--heap", default="512m")
    start.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for readiness")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cli.broker start``: run the broker in the foreground until Ctrl-C.

    Prints the bootstrap string alone on the first line of stdout (for scripts).
    """
    args = build_parser().parse_args(argv)

    # `kill` and a closed terminal stop the broker as cleanly as Ctrl-C does. SIGINT is set too: a
    # process started in the background by a non-interactive shell inherits it ignored.
    signal.signal(signal.SIGINT, _raise_keyboard_interrupt)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    signal.signal(signal.SIGHUP, _raise_keyboard_interrupt)
    kafka = LocalKafka(
        port=args.port,
        controller_port=args.controller_port,
        data_dir=args.data_dir,
        fresh=args.fresh,
        heap=args.heap,
    )
    try:
        started = time.monotonic()
        try:
            kafka.start(timeout=args.timeout)
        except BrokerError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(kafka.bootstrap, flush=True)
        print(
            f"Kafka ready in {time.monotonic() - started:.1f} s (pid {kafka.pid}); "
            f"data {kafka.data_dir}; log {kafka.log_path}. Ctrl-C stops it.",
            file=sys.stderr,
            flush=True,
        )
        code = kafka.wait()
        print(f"error: Kafka exited by itself (code {code})" + kafka.log_tails(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping Kafka…", file=sys.stderr, flush=True)
        return 0
    finally:
        kafka.stop()


def cmd_broker(args: argparse.Namespace) -> int:
    """``newswatch broker``: run the local Kafka broker in the foreground."""
    return main(["start", *args.broker_args]) or 0
