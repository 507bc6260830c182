"""Where each worker's CPU goes while the end-to-end bench runs: py-spy on every process, summed by library.

py-spy (PyPI; a sampling profiler that reads a running process from outside, so the workers run
unchanged) records each worker and stage child by pid while the measured articles go through;
its collapsed stacks are then read into shares of samples by what the time was spent in (the
spaCy model, the sentence embedder, JSON, pydantic, the Kafka client, faust ...). py-spy samples
the threads that are not asleep; a thread in its select() is counted as waiting and left out.
On a busy 2-core machine a thread that is runnable but not running is sampled too, so the
shares say where the time goes, not exact CPU seconds: those come from /proc (the bench prints
both).
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psutil

from evaluation.pipeline import service_of

RATE_HZ = 50

# What a sample was spent in: the category of the innermost frame that has one (a stack through
# spaCy that ends in numpy is spaCy's; one through the worker loop that ends in aiokafka is the
# Kafka client's). Paths are as py-spy prints them (relative to their site-packages).
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("spaCy model", ("spacy/", "thinc/", "en_core_web_sm/")),
    ("sentence embedding", ("onnxruntime/", "tokenizers/", "shared/embed.py")),
    ("MinHash (datasketch)", ("datasketch/",)),
    ("HTML/text extraction", ("trafilatura/", "lxml/", "justext/", "ftfy/")),
    ("language detection", ("lingua/",)),
    ("scikit-learn", ("sklearn/",)),
    ("pydantic", ("pydantic/", "pydantic_core/")),
    ("JSON", ("json/", "orjson", "srsly/")),
    ("Kafka client (aiokafka)", ("aiokafka/", "kafka/")),
    ("metrics", ("prometheus_client/",)),
    ("stage child pipe", ("shared/worker/isolate.py",)),
    ("worker loop (shared/worker)", ("shared/worker/",)),
    ("faust and asyncio", ("faust/", "mode/", "asyncio/", "selectors.py", "venusian/")),
    ("stage code (services/)", ("services/",)),
    ("shared code (shared/)", ("shared/",)),
)
OTHER = "other"
# A thread py-spy saw in its event loop's or server's select(): runnable or just back from the
# wait, not working. Not counted in the shares.
WAITING = "waiting"
_WAITS = ("selectors.py", "EpollSelector.select", "_PollLikeSelector.select")


def category(stack: str) -> str:
    """What the sample with this collapsed stack (``frame;frame;...``, outermost first) was spent in."""
    frames = stack.split(";")
    if any(mark in frames[-1] for mark in _WAITS):
        return WAITING
    for frame in reversed(frames):
        for name, marks in CATEGORIES:
            if any(mark in frame for mark in marks):
                return name
    return OTHER


def binary() -> str:
    """py-spy's executable: beside this interpreter (the virtualenv's), else on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise RuntimeError("py-spy is not installed (pip install py-spy; make install has it)")
    return found


@contextmanager
def recording(pids: Sequence[int], out_dir: Path) -> Iterator[dict[Path, str]]:
    """py-spy records each pid while the block runs; yields {collapsed-stacks file: service}.

    ``--nonblocking``: the process is read without being paused, so the profiled run keeps its
    speed (a sample may rarely be torn; none is counted twice).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    spy = binary()
    files: dict[Path, str] = {}
    recorders = []
    for pid in pids:
        try:
            service = service_of(psutil.Process(pid))
        except psutil.Error:
            continue
        if service is None:
            continue
        out = out_dir / f"{service}-{pid}.txt"
        files[out] = service
        recorders.append(
            subprocess.Popen(
                [spy, "record", "--pid", str(pid), "--rate", str(RATE_HZ), "--nonblocking"]
                + ["--format", "raw", "--output", str(out)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    try:
        yield files
    finally:
        for recorder in recorders:
            recorder.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        for recorder in recorders:
            try:
                recorder.wait(60)
            except subprocess.TimeoutExpired:
                recorder.kill()


def read_samples(path: Path) -> Counter[str]:
    """Samples by category in one py-spy raw file (``stack count`` per line)."""
    found: Counter[str] = Counter()
    if not path.exists():
        return found
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit() and (name := category(stack)) != WAITING:
            found[name] += int(count)
    return found


def shares_by_service(files: dict[Path, str]) -> dict[str, dict[str, float]]:
    """Each service's share of samples by category (its worker and stage child together), largest first."""
    samples: dict[str, Counter[str]] = defaultdict(Counter)
    for path, service in files.items():
        samples[service] += read_samples(path)
    shares = {}
    for service, found in samples.items():
        total = sum(found.values())
        shares[service] = {name: n / total for name, n in found.most_common()} if total else {}
    return shares


def table(shares: dict[str, dict[str, float]], cpu_s: dict[str, float], top: int = 4) -> list[str]:
    """Printable lines: per service its CPU seconds and its largest categories."""
    lines = []
    for service, found in shares.items():
        parts = ", ".join(f"{name} {share:.0%}" for name, share in list(found.items())[:top])
        lines.append(f"  {service:9s} {cpu_s.get(service, 0.0):6.1f} s CPU: {parts}")
    return lines
