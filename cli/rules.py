"""``newswatch rules test|build``: the rule author's loop over articles, labelled sentences and examples.

``rules test [--rules PATH] PATH...``: each input article through the stages up to the rules, on
its own; one JSON line per match on stdout, a summary on stderr. ``rules test --labels FILE``:
precision and recall on labelled sentences, and the misses and false alarms. ``rules build``:
each rule's classifier learned from its examples and stored beside them. Every sentence counts
as new (nothing is remembered between articles).
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
from cli.rules_labels import read_labels, report, score_labels
from services.alerts.rules import RULES_PATH, RulesError, read_rules, validate_rules
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
        "--labels",
        type=Path,
        help="a CSV of labelled sentences (columns text, label: 1 fires, 0 does not): "
        "precision and recall with 95%% intervals, the misses and the false alarms",
    )
    t.add_argument("--rule", help="the rule the labels are for (default: the file's only rule)")
    t.add_argument(
        "paths", nargs="*", metavar="PATH", help="files (.txt .html .json .jsonl), folders, or -"
    )
    t.set_defaults(func=cmd_rules_test)
    b = sub.add_parser(
        "build",
        help="learn each rule's classifier from its examples and store it beside them",
    )
    b.add_argument(
        "--rules", help="the rules file (default $NEWS_ALERTS_RULES or services/alerts/rules.yaml)"
    )
    b.set_defaults(func=cmd_rules_build)


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
    if not args.paths and not args.labels:
        err.write("newswatch: rules test needs articles (PATH...) or --labels FILE\n")
        return 2
    try:
        pairs = read_labels(args.labels) if args.labels else []
    except (OSError, ValueError) as error:
        err.write(f"newswatch: {error}\n")
        return 2
    stages = STAGES[: STAGES.index(RULES) + 1]
    try:
        pipeline = LocalPipeline(
            stages, {"alerts": settings.model_copy(update={"alerts_rules": str(path)})}
        )
    except RulesError as error:
        err.write(f"newswatch: invalid rules: {error}\n")
        return 2
    if args.labels:
        ids = [rule.id for _, rule in validate_rules(read_rules(path), source=str(path))]
        return _test_labels(pipeline, pairs, ids, args, out, err)
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


def _test_labels(
    pipeline: LocalPipeline,
    pairs: list[tuple[str, bool]],
    ids: list[str],
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
) -> int:
    rule = args.rule or (ids[0] if len(ids) == 1 else None)
    if rule is None or rule not in ids:
        err.write(f"newswatch: name the rule the labels are for with --rule (one of {ids})\n")
        return 2

    def fires(text: str) -> set[str]:
        pipeline.forget()
        value = json.dumps({"id": "labelled", "text": text}).encode()
        return {r.value.rule_id for r in pipeline.feed(value) if isinstance(r.value, Alert)}

    report(score_labels(pairs, rule, fires), args.labels, out)
    out.flush()
    return 0


# How many doubtful examples `rules build` lists per rule (the farthest from their label).
SHOWN = 15


def cmd_rules_build(
    args: argparse.Namespace, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Learn every rule's classifier from its examples and store it; exit 2 on an invalid file."""
    # spaCy and onnxruntime: loaded by this command, not by every `newswatch` call.
    from services.alerts.compile import build_artefacts  # noqa: PLC0415
    from shared.embed import SentenceEmbedder  # noqa: PLC0415

    out, err = stdout or sys.stdout, stderr or sys.stderr
    path = Path(args.rules or AlertsSettings().alerts_rules or RULES_PATH)
    try:
        built = build_artefacts(path, SentenceEmbedder(threads=2))
    except RulesError as error:
        err.write(f"newswatch: invalid rules: {error}\n")
        return 2
    for done in built:
        fire, silent = done.classifier.counts
        out.write(
            f"{done.rule.id}: learned from {fire} fire and {silent} silent examples in "
            f"{done.seconds:.1f} s -> {done.artefact}\n"
        )
        out.write(
            f"  {len(done.doubtful)} example(s) on the wrong side when held out (5-fold); "
            f"the {min(len(done.doubtful), SHOWN)} farthest:\n"
        )
        farthest = sorted(done.doubtful, key=lambda d: -abs(d[2] - d[1]))[:SHOWN]
        for text, fire_it, p in farthest:
            side = "fire" if fire_it else "silent"
            out.write(f"  - {side}, P(fire) {p:.2f}: {json.dumps(text, ensure_ascii=False)}\n")
    if not built:
        out.write(f"no rule in {path} has examples\n")
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
