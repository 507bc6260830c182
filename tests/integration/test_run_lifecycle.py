"""`newswatch run` as a supervisor: a worker that dies past its restarts takes the run down, non-zero, leaving nothing behind.

Restarts themselves (kill -9 of a worker or of the broker, stalls, a bounded stop) are in
test_supervision.py.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from shared.topics import SERVICES
from tests.integration.harness import launch_run, own_broker, process_state


def test_a_worker_dead_past_its_restarts_stops_the_run_with_an_error_and_no_process_is_left(
    tmp_path,
):
    # A broker of its own: on the session broker, this run's workers would read the end-to-end
    # pipeline's topics from the start and publish alerts and event records of their own there
    # (test_pipeline.py reads them), in whatever order pytest-xdist runs the two.
    with own_broker(tmp_path) as bootstrap:
        stops_the_run(launch_run(bootstrap, tmp_path, env={"NEWS_RUN_MAX_RESTARTS": "0"}))


def stops_the_run(run) -> None:
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
        assert len(pids) >= len(SERVICES), pids  # the workers (and their isolated stage children)
        entities = next(
            p for p in pids if b"services.entities.app" in Path(f"/proc/{p}/cmdline").read_bytes()
        )
        os.kill(entities, signal.SIGKILL)
        rest = proc.stdout.read()
        proc.wait(60)
        assert proc.returncode == 1, rest
        assert "newswatch: entities exited with -9 after 0 restart(s)" in rest, rest
        assert "giving up; stopping everything" in rest, rest
        time.sleep(0.5)
        left = {
            p: process_state(p)
            for p in pids
            if Path(f"/proc/{p}").exists() and "zombie" not in process_state(p)
        }
        assert not left, f"workers left behind: {left}"
    finally:
        if proc.poll() is None:
            proc.kill()
