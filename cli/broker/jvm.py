"""The broker's Java processes: which ``java``, its flags, a child tied to us."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from typing import IO

from cli.settings import BrokerSettings
from shared.admin import BrokerError
from shared.worker.lifecycle import die_with_parent

# Flags from Kafka's kafka-run-class.sh, minus JMX, which nothing here reads.
JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)


def java_executable() -> str:
    """The ``java`` to run: ``$JAVA_HOME/bin/java`` if there is one, else the one on PATH."""
    java_home = BrokerSettings().java_home
    if java_home and (java_home / "bin" / "java").is_file():
        return str(java_home / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise BrokerError("java is not on PATH (Kafka 3.9 needs Java 8 to 21; 17 is tested)")
    return java


def spawn(argv: Sequence[str], *, stdout: IO[bytes] | int | None = None) -> subprocess.Popen[bytes]:
    """Start ``argv`` in its own session, tied to this process's life (see die_with_parent).

    Own session: Ctrl-C in the terminal reaches only Python, which then stops the broker cleanly
    instead of racing it.
    """
    return subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.STDOUT if stdout is not None else None,
        start_new_session=True,
        # Only prctl and getppid run between fork and exec, with libc loaded beforehand.
        preexec_fn=die_with_parent(),  # noqa: PLW1509
    )
