"""Integration helpers (no fixtures): launch `newswatch run` against a broker, a broker of a test's own, process states.

They live in evaluation/pipeline.py, shared with the benchmarks that go through Kafka (evaluation
never imports tests). The fixtures that use them are in conftest.py; tests import helpers from
here, never from a conftest.
"""

from evaluation.pipeline import (
    NEWSWATCH,
    REPO,
    RunningPipeline,
    free_port_block,
    launch_run,
    own_broker,
    process_state,
    running_pipeline,
)

__all__ = [
    "NEWSWATCH",
    "REPO",
    "RunningPipeline",
    "free_port_block",
    "launch_run",
    "own_broker",
    "process_state",
    "running_pipeline",
]
