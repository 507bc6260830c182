"""``newswatch rules test [--rules PATH] PATH...``: each input article through the stages up to the rules, on its own; one JSON line per match on stdout, a summary on stderr.

The rule author's loop: edit the rules file, run this on a folder of articles, read what fired
and with which frame. Every sentence counts as new (nothing is remembered between articles).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from cli.inputs import read_inputs
from cli.pipeline import LocalPipeline
from services.alerts.rules import RULES_PATH, RulesError
from services.alerts.settings import AlertsSettings
from services.alerts.stage import STAGE as RULES
from services.stages import STAGES
from shared.schemas import Alert, DeadLetter


def add_parser(subparsers: Any) -> None:
    """Register ``rules`` (sub-command ``test``) on the ``newswatch`` parser's sub-parsers."""
    p = subparsers.add_parser("rules", help="try alert rules on articles")
    sub = p.add_subparsers(dest="rules_command", required=True)
    t = sub.add_parser(
        "test",
        help="evaluate the rules on each article on its own; JSON lines out, summary on stderr",
    )
    t.add_argument(
        "--rules", help="the rules file (default $NEWS_ALERTS_RULES or services/alerts/rules.yaml)"
    )
    t.add_argument(
        "paths", nargs="+", metavar="PATH", help="files (.txt .html .json .jsonl), folders, or -"
    )
    t.set_defaults(func=cmd_rules_test)


def cmd_rules_test(
    args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the rules on each input article; exit 2 when the rules file is invalid.

    The registry's stages up to the rules, as ``newswatch process`` runs them, with every store
    emptied before each input, so each article is read on its own.
    """
    out, err = stdout or sys.stdout, stderr or sys.stderr
    settings = AlertsSettings()
    path = Path(args.rules or settings.alerts_rules or RULES_PATH)
    stages = STAGES[: STAGES.index(RULES) + 1]
    try:
        pipeline = LocalPipeline(
            stages, {"alerts": settings.model_copy(update={"alerts_rules": str(path)})}
        )
    except RulesError as error:
        err.write(f"newswatch: invalid rules: {error}\n")
        return 2
    articles = failed = 0
    fired: Counter[str] = Counter()
    for origin, value in read_inputs(args.paths):
        pipeline.forget()
        for record in pipeline.feed(value):
            message = record.value
            if record.kind == "clean":
                articles += 1
            elif isinstance(message, DeadLetter):
                failed += 1
                err.write(f"{origin}: not usable ({message.reason}: {message.error})\n")
            elif isinstance(message, Alert):
                alert = message
                fired[alert.rule_id] += 1
                out.write(json.dumps(_match(origin, alert), ensure_ascii=False) + "\n")
                err.write(_summary_line(origin, alert))
    out.flush()
    by_rule = ", ".join(f"{rule} {n}" for rule, n in sorted(fired.items())) or "none"
    err.write(
        f"rules test: {articles} article(s), {sum(fired.values())} match(es) ({by_rule}); "
        f"{failed} input(s) not usable; rules from {path}\n"
    )
    return 0


def _match(origin: str, alert: Any) -> dict[str, Any]:
    return {
        "article_id": alert.article_id,
        "origin": origin,
        "rule_id": alert.rule_id,
        "severity": alert.severity,
        "sentence_index": alert.sentence_index,
        "evidence": alert.evidence,
        "frame": alert.frame.model_dump(mode="json") if alert.frame else None,
        "frames": [f.model_dump(mode="json") for f in alert.frames],
    }


def _summary_line(origin: str, alert: Any) -> str:
    f = alert.frame
    where = "title" if alert.sentence_index < 0 else f"sentence {alert.sentence_index}"
    if f is None:
        detail = ""
    else:
        actor = f"{f.actor.text} ({f.actor.country or '?'})" if f.actor else "?"
        place = f"{f.place.text} ({f.place.country or '?'})" if f.place else "?"
        extra = f", {f.count} personnel" if f.count else ""
        extra += f", with {', '.join(f.equipment)}" if f.equipment else ""
        detail = f": {actor} {f.action or '?'} -> {place} [{f.modality}]{extra}"
    return f"{origin} {where} {alert.rule_id}{detail}\n  {alert.evidence[:160]}\n"
