"""The broker's KRaft data dir: a new cluster id, its format, a guarded wipe."""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from collections.abc import Sequence
from pathlib import Path

from cli.broker.config import SaslSslListener
from cli.broker.jvm import java_executable
from cli.broker.tails import tail_text
from shared.admin import BrokerError


def new_cluster_id() -> str:
    """Make a random cluster id as `kafka-storage random-uuid` does (url-safe base64, no padding).

    Made in Python because the Java tool costs a JVM start (about 1 s) for 16 random bytes.
    Like Kafka's ``Uuid.randomUuid``, it never starts with "-": the storage tool would read
    ``-t -abc…`` as a missing value (1 id in 64 would fail to format).
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def is_formatted(data_dir: Path) -> bool:
    """Whether ``data_dir`` holds a formatted Kafka data dir (its ``meta.properties``)."""
    return (data_dir / "meta.properties").is_file()


def wipe_data_dir(data_dir: Path) -> None:
    """Delete ``data_dir``, refusing a non-empty directory that is not a Kafka data dir."""
    # A mistyped --data-dir must not wipe something that is not a Kafka data dir.
    if any(data_dir.glob("*")) and not is_formatted(data_dir):
        raise BrokerError(f"refusing to wipe {data_dir}: it has no meta.properties")
    shutil.rmtree(data_dir, ignore_errors=True)


def format_data_dir(
    data_dir: Path,
    *,
    properties_path: Path,
    classpath: str,
    logging_flags: Sequence[str],
    sasl_ssl: SaslSslListener | None = None,
) -> None:
    """Format ``data_dir`` (named in ``properties_path``) with a new cluster id, and SCRAM users.

    Raises BrokerError with the tool's output, passwords masked, when the format fails.
    """
    argv = [
        java_executable(), "-Xmx256m", *logging_flags, "-cp", classpath,
        "kafka.tools.StorageTool", "format",
        "-t", new_cluster_id(), "-c", str(properties_path),
    ]  # fmt: skip
    if sasl_ssl is not None:
        argv += sasl_ssl.scram_arguments()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        output = done.stdout + done.stderr
        # The tool may echo a malformed --add-scram argument, password included.
        for password in sasl_ssl.users.values() if sasl_ssl else ():
            output = output.replace(password, "***")
        raise BrokerError(
            f"formatting {data_dir} failed (exit {done.returncode}):\n" + tail_text(output)
        )
