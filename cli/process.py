"""``newswatch process``: the stages chained in this process by topic, no Kafka; one JSON line per record on stdout."""

from __future__ import annotations

import argparse
import json
import sys

from cli.inputs import read_inputs
from cli.pipeline import LocalPipeline
from services.entities.settings import EntitiesSettings
from services.stages import stages_until


def cmd_process(args: argparse.Namespace) -> int:
    """Run every stage's core in this process and print one JSON line per record."""
    overrides = {}
    if args.spacy_model:
        overrides["entities"] = EntitiesSettings().model_copy(
            update={"entities_spacy_model": args.spacy_model}
        )
    pipeline = LocalPipeline(stages_until(args.until), overrides)
    out = sys.stdout
    for _origin, value in read_inputs(args.paths):
        for record in pipeline.feed(value):
            out.write(json.dumps(record.to_json(), ensure_ascii=False) + "\n")
    out.flush()
    return 0
