"""The ``newswatch`` command: run the pipeline, submit articles, read alerts, process files without Kafka.

One module per command in this package; this one only parses the command line.
"""

from __future__ import annotations

import argparse
import sys

from cli.alerts import cmd_alerts
from cli.broker import cmd_broker
from cli.docs import add_parser as add_docs_parser
from cli.process import cmd_process
from cli.report.command import add_parser as add_report_parser
from cli.rules import add_parser as add_rules_parser
from cli.run import REPO, cmd_run
from cli.stories import cmd_stories
from cli.submit import cmd_submit
from cli.topics import cmd_topics
from shared.settings import DEFAULT_BOOTSTRAP, parse_worker_count
from shared.topics import SERVICES


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``newswatch`` command."""
    parser = argparse.ArgumentParser(prog="newswatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def with_bootstrap(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--bootstrap",
            help=f"Kafka bootstrap servers (default $NEWS_KAFKA_BOOTSTRAP or {DEFAULT_BOOTSTRAP})",
        )
        return p

    partitions = None  # NEWS_TOPIC_PARTITIONS (shared.settings) unless given
    p = with_bootstrap(
        sub.add_parser("run", help="start the broker (unless reachable) and the five services")
    )
    p.add_argument("--partitions", type=int, default=partitions)
    p.add_argument(
        "--metrics-base",
        type=int,
        default=9101,
        help="first /metrics port: clean, dedup, entities, alerts, stories take it and the next four",
    )
    p.add_argument(
        "--logs", default=str(REPO / ".cache" / "logs"), help="folder for the workers' logs"
    )
    p.add_argument("--ready-timeout", type=float, default=180.0)
    p.add_argument(
        "--broker-port",
        type=int,
        default=int(DEFAULT_BOOTSTRAP.rpartition(":")[2]),
        help="port of the local broker, when one is started (default %(default)s)",
    )
    p.add_argument(
        "--broker-data-dir",
        help="data dir of the local broker (default .cache/kafka/data);"
        " kept across runs and restarts",
    )
    p.add_argument(
        "--workers",
        action="append",
        type=worker_count,
        metavar="SERVICE=N",
        help="run N workers of SERVICE (repeatable: --workers entities=2 --workers alerts=2; "
        "default $NEWS_RUN_WORKERS, else 1 each); each extra one has its own /metrics port",
    )
    p.set_defaults(func=cmd_run)

    p = with_bootstrap(sub.add_parser("submit", help="send articles onto the input topic"))
    p.add_argument("paths", nargs="+", metavar="PATH", help="files, folders, or - for stdin")
    p.set_defaults(func=cmd_submit)

    p = with_bootstrap(
        sub.add_parser(
            "alerts", help="print the events alerts report (new, updates, mentions counted)"
        )
    )
    p.add_argument("--follow", "-f", action="store_true", help="keep waiting for new records")
    p.add_argument(
        "--from-beginning", action="store_true", help="all records, not only those not yet shown"
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="one JSON object a line: the EventAlert and EventMention records (with --raw, the Alerts)",
    )
    p.add_argument(
        "--raw",
        action="store_true",
        help="the per-sentence alerts of news.alert.v1 instead of events",
    )
    p.add_argument(
        "--group",
        help="the consumer group that remembers what was shown "
        "(default $NEWS_ALERTS_GROUP or newswatch-cli-alerts)",
    )
    p.set_defaults(func=cmd_alerts)

    p = with_bootstrap(
        sub.add_parser("stories", help="print the stories, largest first; --follow as they grow")
    )
    p.add_argument("--follow", "-f", action="store_true", help="then print each story as it grows")
    p.add_argument("--top", type=int, default=20, help="how many stories (0: all; default 20)")
    p.add_argument("--json", action="store_true", help="one StoryRecord a line")
    p.set_defaults(func=cmd_stories)

    p = sub.add_parser("process", help="run the stages in this process, no Kafka; JSON lines out")
    p.add_argument(
        "paths", nargs="+", metavar="PATH", help="files (.txt .html .json .jsonl), folders, or -"
    )
    p.add_argument(
        "--spacy-model",
        help="the spaCy model (default $NEWS_ENTITIES_SPACY_MODEL or en_core_web_sm)",
    )
    p.add_argument(
        "--until",
        choices=SERVICES,
        default="alerts",
        help="stop after this stage (e.g. --until dedup for a dedup backfill without spaCy)",
    )
    p.set_defaults(func=cmd_process)

    add_rules_parser(sub)  # `newswatch rules test`: a rule author's loop

    add_report_parser(sub, with_bootstrap)  # `newswatch report`: one HTML page

    p = with_bootstrap(sub.add_parser("topics", help="create the topics (idempotent)"))
    p.add_argument("--partitions", type=int, default=partitions)
    p.set_defaults(func=cmd_topics)

    # Its options are `python -m cli.broker start`'s, passed on as they are by parse_args (a
    # REMAINDER positional here took nothing when the first option started with "--").
    p = sub.add_parser(
        "broker",
        help="run the local Kafka broker in the foreground "
        "(options: --port, --data-dir, --fresh, … as `python -m cli.broker start`)",
    )
    p.set_defaults(func=cmd_broker, broker_args=[])

    add_docs_parser(sub)  # `newswatch docs config`: docs/configuration.md
    return parser


def worker_count(text: str) -> tuple[str, int]:
    """``--workers``'s value: ``entities=2`` as ``("entities", 2)``, or a one-line usage error."""
    try:
        return parse_worker_count(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse a ``newswatch`` command line; ``broker`` keeps the options it does not know for the broker."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "broker":
        args.broker_args = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``newswatch`` console script."""
    args = parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # `newswatch process … | head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
