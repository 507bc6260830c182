"""`newswatch run` as a supervisor: a worker that dies takes the run down, non-zero, leaving nothing behind."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

from shared.topics import SERVICES
from tests.integration.conftest import NEWSWATCH, REPO, RunningPipeline, free_port_block


def test_a_dead_worker_stops_the_run_with_an_error_and_no_process_is_left(kafka, tmp_path):
    suffix = f"-life{uuid.uuid4().hex[:6]}"
    base = free_port_block(len(SERVICES))
    env = {**os.environ, "NEWS_GROUP_SUFFIX": suffix, "NEWS_DATA_DIR": str(tmp_path / "faust"),
           "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [*NEWSWATCH, "run", "--bootstrap", kafka, "--metrics-base", str(base), "--logs", str(tmp_path / "logs"),
         "--partitions", "2"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    run = RunningPipeline(kafka, suffix, {}, tmp_path / "logs", proc)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            run.output.append(line)
            if "newswatch: ready" in line:
                break
        else:
            raise AssertionError("".join(run.output))
        pids = run.worker_pids()
        assert len(pids) == len(SERVICES), pids
        entities = next(p for p in pids if b"services.entities.app" in Path(f"/proc/{p}/cmdline").read_bytes())
        os.kill(entities, signal.SIGKILL)
        rest = proc.stdout.read()
        proc.wait(60)
        assert proc.returncode == 1, rest
        assert "worker entities exited with -9" in rest
        time.sleep(0.5)
        assert not [p for p in pids if Path(f"/proc/{p}").exists()], "workers left behind"
    finally:
        if proc.poll() is None:
            proc.kill()
