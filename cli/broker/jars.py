"""Kafka's runtime jars, copied once from Maven Central with ``mvn``."""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import subprocess
from pathlib import Path

from cli.broker.paths import DEFAULT_LIB_DIR, POM, REPO
from cli.broker.tails import tail_text
from shared.admin import BrokerError

_MARKER_NAME = ".fetched"  # holds the sha256 of the pom the jars were copied for


def fetch_jars(lib_dir: Path | None = None) -> Path:
    """Copy Kafka's runtime jars from Maven Central into ``lib_dir`` once, and return it.

    Skipped when a marker written after the last successful copy names the current pom's
    sha256; a changed pom (e.g. a new Kafka version) clears the old jars and copies again.
    """
    lib = (lib_dir or DEFAULT_LIB_DIR).resolve()
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()
    marker = lib / _MARKER_NAME
    lib.parent.mkdir(parents=True, exist_ok=True)
    # Two processes (a test session and `make run`) may fetch at once; the second one waits
    # and then finds the marker.
    with open(lib.parent / f".{lib.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.is_file() and marker.read_text().strip() == digest:
            return lib
        _copy_dependencies(lib)
        marker.write_text(digest + "\n")
        return lib


def _copy_dependencies(lib: Path) -> None:
    """Replace the jars in ``lib`` with the pom's runtime dependencies (``mvn`` needed)."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise BrokerError(
            "mvn is not on PATH: it is needed once to fetch Kafka's jars from Maven Central "
            f"({POM.relative_to(REPO)})"
        )
    if lib.is_dir():
        # Jars of an older pom would sit on the same classpath as the new ones.
        for jar in lib.glob("*.jar"):
            jar.unlink()
    lib.mkdir(parents=True, exist_ok=True)
    cmd = [
        mvn, "-B", "-q", "-f", str(POM), "dependency:copy-dependencies",
        "-DincludeScope=runtime", f"-DoutputDirectory={lib}",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not any(lib.glob("kafka_2.13-*.jar")):
        raise BrokerError(
            "could not fetch Kafka's jars from Maven Central "
            f"(mvn exit {done.returncode}; is https://repo.maven.apache.org reachable?):\n"
            + tail_text(done.stdout + done.stderr)
        )
