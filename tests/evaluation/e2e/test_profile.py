"""Where the bench says the workers' time goes: py-spy's stacks read into categories."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from evaluation.e2e import profile

SPACY_IN_NUMPY = (
    "<module> (services/entities/app.py:9);Step._process (shared/worker/loop.py:80);"
    "_extract (services/entities/extract.py:40);_pipe (spacy/language.py:1600);"
    "forward (thinc/layers/maxout.py:50);dot (numpy/core/multiarray.py:10)"
)
LOOP_IN_AIOKAFKA = (
    "run_forever (asyncio/base_events.py:607);Step.process (shared/worker/loop.py:70);"
    "Sender._send_produce_req (aiokafka/producer/sender.py:300)"
)
IDLE = "run_forever (asyncio/base_events.py:607);EpollSelector.select (selectors.py:468)"


def test_a_sample_is_the_innermost_library_on_its_stack() -> None:
    assert profile.category(SPACY_IN_NUMPY) == "spaCy model"
    assert profile.category(LOOP_IN_AIOKAFKA) == "Kafka client (aiokafka)"
    assert profile.category("run (shared/worker/loop.py:70)") == "worker loop (shared/worker)"
    assert profile.category("f (somewhere/else.py:1)") == profile.OTHER


def test_a_thread_in_select_is_waiting_and_not_counted(tmp_path: Path) -> None:
    assert profile.category(IDLE) == profile.WAITING
    raw = tmp_path / "dedup-1.txt"
    raw.write_text(f"{IDLE} 50\n{LOOP_IN_AIOKAFKA} 3\n{SPACY_IN_NUMPY} 1\n")
    assert profile.read_samples(raw) == {"Kafka client (aiokafka)": 3, "spaCy model": 1}


def test_shares_add_a_services_processes_together(tmp_path: Path) -> None:
    (tmp_path / "entities-1.txt").write_text(f"{SPACY_IN_NUMPY} 3\n")
    (tmp_path / "entities-2.txt").write_text(f"{LOOP_IN_AIOKAFKA} 1\n")
    files = {tmp_path / "entities-1.txt": "entities", tmp_path / "entities-2.txt": "entities"}
    shares = profile.shares_by_service(files)
    assert shares == {"entities": {"spaCy model": 0.75, "Kafka client (aiokafka)": 0.25}}
    assert list(shares["entities"]) == ["spaCy model", "Kafka client (aiokafka)"]  # largest first
    line = profile.table(shares, {"entities": 12.0})[0]
    assert "12.0 s CPU" in line and "spaCy model 75%" in line


@pytest.mark.slow
def test_py_spy_records_a_running_worker(tmp_path: Path) -> None:
    """A real py-spy on a real process whose command line names a service (as a worker's does)."""
    busy = "import json, time\nend = time.time() + 20\nwhile time.time() < end: json.dumps(list(range(500)))"
    proc = subprocess.Popen([sys.executable, "-c", busy, "services.clean.app"])
    try:
        time.sleep(0.5)
        with profile.recording([proc.pid], tmp_path) as files:
            time.sleep(2)
    finally:
        proc.kill()
        proc.wait()
    assert list(files.values()) == ["clean"]
    shares = profile.shares_by_service(files)
    assert max(shares["clean"], key=shares["clean"].__getitem__) == "JSON"
