"""`make bench`: run every benchmark script in one process tree and print their figures one after another.

The machines are shared and noisy: compare the ratios each script prints, measured in the same run.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_clean.py", "bench_dedup.py", "bench_entities.py", "bench_alerts.py", "bench_events.py"]


def main() -> int:
    failed = []
    for name in SCRIPTS:
        script = HERE / name
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(script)], cwd=HERE.parents[1])
        print(f"--- {name}: exit {code} in {time.perf_counter() - started:.1f} s", flush=True)
        if code:
            failed.append(name)
    if failed:
        print(f"\nbenchmarks failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
