"""`newswatch run` as a supervisor: a worker that dies takes the run down, non-zero, leaving nothing behind."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from shared.topics import SERVICES
from tests.integration.conftest import launch_run


def test_a_dead_worker_stops_the_run_with_an_error_and_no_process_is_left(kafka, tmp_path):
    run = launch_run(kafka, tmp_path)
    proc = run.proc
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
