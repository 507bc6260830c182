"""The development broker: the project's own single-node KRaft Kafka (jars from Maven Central); consumes and produces nothing.

``make kafka`` and ``newswatch broker`` run ``python -m cli.broker start``; ``newswatch run`` and
the integration tests use :class:`LocalKafka` directly. How it works, the measured timings and the
pitfalls are in deploy/kafka/README.md. Topic creation and broker probes, which the workers need
too, are in ``shared.admin``.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import fcntl
import hashlib
import logging
import os
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from shared.admin import HOST, BrokerError, broker_reachable
from shared.lifecycle import die_with_parent

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parent.parent
KAFKA_DEPLOY_DIR = REPO / "deploy" / "kafka"
POM = KAFKA_DEPLOY_DIR / "pom.xml"
SERVER_PROPERTIES_TEMPLATE = KAFKA_DEPLOY_DIR / "server.properties"
LOG4J_PROPERTIES = KAFKA_DEPLOY_DIR / "log4j.properties"
DEFAULT_LIB_DIR = REPO / ".cache" / "kafka" / "lib"
DEFAULT_DATA_DIR = REPO / ".cache" / "kafka" / "data"
# Kept equal to shared.settings.DEFAULT_BOOTSTRAP (a unit test checks); importing it would pull
# pydantic into this module.
DEFAULT_PORT = 19092

_MARKER_NAME = ".fetched"  # holds the sha256 of the pom the jars were copied for
# Flags from Kafka's kafka-run-class.sh, minus JMX, which nothing here reads.
_JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)


# -- jars -------------------------------------------------------------------------------------


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
                + _tail_text(done.stdout + done.stderr)
            )
        marker.write_text(digest + "\n")
        return lib


# -- configuration ----------------------------------------------------------------------------


# SCRAM user names and passwords go into StorageTool arguments
# ("SCRAM-SHA-256=[name=…,password=…]"), which have their own quoting rules, so only characters
# that need no quoting are accepted.
_PLAIN_CHARS = frozenset(string.ascii_letters + string.digits + "-_.~")
SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class SaslSslListener:
    """An extra SASL_SSL listener (SCRAM-SHA-256 and -512 over TLS), opened next to PLAINTEXT.

    ``certificate_chain`` is a PEM file with the server certificate first, then its CA(s);
    ``private_key`` the server's key as unencrypted PKCS#8 PEM (``BEGIN PRIVATE KEY``). Both go
    inline into server.properties (``ssl.keystore.type=PEM``, ``ssl.keystore.certificate.chain``,
    ``ssl.keystore.key``): a PEM keystore *file* would need an encrypted key, and Java 17 cannot
    read the PBES2 encryption that Python's ``cryptography`` writes (deploy/kafka/README.md).
    ``users`` maps SCRAM user names to passwords; each is created for both mechanisms when the
    data dir is formatted. Passwords never appear in the repr.
    """

    port: int
    certificate_chain: Path
    private_key: Path
    users: Mapping[str, str] = field(repr=False)

    def __post_init__(self) -> None:
        """Refuse users the storage tool would parse differently, and keys Kafka cannot read."""
        if not self.users:
            raise ValueError("a SASL_SSL listener needs at least one SCRAM user")
        for name, password in self.users.items():
            for what, value in ((f"user name {name!r}", name), (f"password of {name!r}", password)):
                if not value or not set(value) <= _PLAIN_CHARS:
                    raise ValueError(
                        f"SASL_SSL listener: the {what} must be non-empty and use "
                        "only letters, digits and - _ . ~"
                    )

    def server_properties(self) -> dict[str, str]:
        """The broker settings this listener adds (the listener lists are extended separately).

        Reads the PEM files. Each PEM value is one properties line with its line breaks written
        as ``\\n`` escapes: Kafka's PEM parser needs them (with a whole chain on one line, it
        matches from the first BEGIN to the last CERTIFICATE and keeps only the CA).
        """
        key = Path(self.private_key).read_text()
        if "-----BEGIN PRIVATE KEY-----" not in key:
            raise BrokerError(
                f"{self.private_key}: not an unencrypted PKCS#8 PEM key "
                "(-----BEGIN PRIVATE KEY-----)"
            )
        chain = Path(self.certificate_chain).read_text()
        if "-----BEGIN CERTIFICATE-----" not in chain:
            raise BrokerError(f"{self.certificate_chain}: no PEM certificate in it")
        jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        props = {
            "sasl.enabled.mechanisms": ",".join(SCRAM_MECHANISMS),
            "ssl.client.auth": "none",
            "ssl.keystore.type": "PEM",
            "ssl.keystore.certificate.chain": _escaped_lines(chain),
            "ssl.keystore.key": _escaped_lines(key),
        }
        for mechanism in SCRAM_MECHANISMS:
            props[f"listener.name.sasl_ssl.{mechanism.lower()}.sasl.jaas.config"] = jaas
        return props

    def scram_arguments(self) -> list[str]:
        """``--add-scram`` arguments for ``StorageTool format``: every user, both mechanisms."""
        return [
            arg
            for name, password in self.users.items()
            for mechanism in SCRAM_MECHANISMS
            for arg in ("--add-scram", f"{mechanism}=[name={name},password={password}]")
        ]


def _escaped_lines(text: str) -> str:
    """Multi-line text as one properties value: line breaks become ``\\n`` escapes."""
    return "\\n".join(text.strip().splitlines())


def render_server_properties(
    *, port: int, controller_port: int, log_dirs: Path, sasl_ssl: SaslSslListener | None = None
) -> str:
    """Fill deploy/kafka/server.properties with the ports and the (absolute) data directory.

    With ``sasl_ssl``, a ``SASL_SSL`` listener is added to ``listeners``,
    ``advertised.listeners`` and ``listener.security.protocol.map`` (the PLAINTEXT listener
    stays as it is, and remains the inter-broker listener), and its settings are appended.
    """
    template = string.Template(SERVER_PROPERTIES_TEMPLATE.read_text())
    text = template.substitute(
        port=port, controller_port=controller_port, log_dirs=Path(log_dirs).resolve()
    )
    if sasl_ssl is None:
        return text
    extra = {
        "listeners": f"SASL_SSL://{HOST}:{sasl_ssl.port}",
        "advertised.listeners": f"SASL_SSL://{HOST}:{sasl_ssl.port}",
        "listener.security.protocol.map": "SASL_SSL:SASL_SSL",
    }
    lines = []
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip()
        if key in extra and not line.lstrip().startswith("#"):
            line = f"{line.rstrip()},{extra.pop(key)}"
        lines.append(line)
    if extra:  # the template lost a line this relies on
        raise BrokerError(f"{SERVER_PROPERTIES_TEMPLATE} has no {', '.join(extra)} line")
    lines += ["", "# SASL_SSL listener (LocalKafka(sasl_ssl=...), deploy/kafka/README.md)"]
    lines += [f"{k}={v}" for k, v in sasl_ssl.server_properties().items()]
    return "\n".join(lines) + "\n"


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


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now (another process may take it later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # Without it, a port still in TIME_WAIT from the previous broker would count as taken,
        # though the broker (which sets SO_REUSEADDR too) can bind it.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
        return True


# -- the broker process -----------------------------------------------------------------------



def _spawn(
    argv: Sequence[str], *, stdout: IO[bytes] | int | None = None
) -> subprocess.Popen[bytes]:
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


def _tail_text(text: str, lines: int = 40) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _tail_file(path: Path, since: int = 0, lines: int = 40) -> str:
    try:
        with open(path, "rb") as f:
            end = f.seek(0, os.SEEK_END)
            f.seek(max(end - 64 * 1024, since, 0))
            text = f.read().decode(errors="replace")
    except FileNotFoundError:
        return "(missing)"
    return _tail_text(text, lines) if text.strip() else "(nothing written by this start)"


def _java() -> str:
    from cli.settings import BrokerSettings  # pydantic, only once a broker is started

    java_home = BrokerSettings().java_home
    if java_home and (java_home / "bin" / "java").is_file():
        return str(java_home / "bin" / "java")
    java = shutil.which("java")
    if java is None:
        raise BrokerError("java is not on PATH (Kafka 3.9 needs Java 8 to 21; 17 is tested)")
    return java


class LocalKafka:
    """One single-node KRaft broker (broker and controller in one JVM) on 127.0.0.1.

    Files: ``data_dir`` is Kafka's ``log.dirs``; its parent (the work dir) holds the rendered
    ``server.properties`` and ``logs/`` (``server.log``, and ``kafka.out`` for the JVM's own
    output). Two brokers must therefore not share a parent directory.

    ``fresh=True`` wipes ``data_dir`` (and formats it with a new cluster id) on this object's
    first start only, so ``stop()`` then ``start()`` restarts on the same data.

    ``sasl_ssl`` (opt-in) also opens a SASL_SSL listener on its own port, with SCRAM users that
    are created when the data dir is formatted (so give it with ``fresh=True`` or a new data dir;
    a data dir formatted earlier keeps the users it was formatted with).

    The JVM gets SIGKILL if the thread that called ``start()`` dies (PR_SET_PDEATHSIG is tied to
    the creating thread), so call ``start()`` from the main thread or a thread that outlives the
    broker.
    """

    def __init__(
        self,
        *,
        port: int = DEFAULT_PORT,
        controller_port: int | None = None,
        data_dir: Path | None = None,
        fresh: bool = False,
        heap: str = "512m",
        sasl_ssl: SaslSslListener | None = None,
    ) -> None:
        self.port = port
        self.sasl_ssl = sasl_ssl
        self._controller_port = controller_port
        self.data_dir = Path(data_dir or DEFAULT_DATA_DIR).resolve()
        self.work_dir = self.data_dir.parent
        self.fresh = fresh
        self.heap = heap
        self._wipe_pending = fresh
        self._proc: subprocess.Popen[bytes] | None = None
        self._out: IO[bytes] | None = None
        self._log_offset = 0  # server.log is appended to; errors show only this start's part

    # -- read-only views

    @property
    def bootstrap(self) -> str:
        """The bootstrap string clients use: ``127.0.0.1:PORT``."""
        return f"{HOST}:{self.port}"

    @property
    def sasl_ssl_bootstrap(self) -> str | None:
        """The SASL_SSL listener's bootstrap string (``127.0.0.1:PORT``), if one was asked for."""
        return f"{HOST}:{self.sasl_ssl.port}" if self.sasl_ssl is not None else None

    @property
    def controller_port(self) -> int | None:
        """The KRaft controller port (chosen at start when not given)."""
        return self._controller_port

    @property
    def log_path(self) -> Path:
        """The broker's server.log (appended across starts)."""
        return self.work_dir / "logs" / "server.log"

    @property
    def out_path(self) -> Path:
        """The JVM's stdout and stderr of the latest start (errors before logging is set up)."""
        return self.work_dir / "logs" / "kafka.out"

    @property
    def properties_path(self) -> Path:
        """The rendered server.properties."""
        return self.work_dir / "server.properties"

    @property
    def pid(self) -> int | None:
        """The JVM's process id while it runs."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    @property
    def returncode(self) -> int | None:
        """The JVM's exit status once it has exited by itself (-9: killed), else None."""
        return self._proc.poll() if self._proc is not None else None

    # -- lifecycle

    def start(self, timeout: float = 90) -> str:
        """Start the broker (fetching and formatting first as needed); return the bootstrap.

        Returns once a metadata request lists the broker. Raises :class:`BrokerError` with the
        tail of server.log and of the JVM's output when it exits or is not ready in ``timeout``.
        """
        if self.pid is not None:
            return self.bootstrap
        if self._proc is not None:
            # The JVM died by itself (a supervisor restarts it): same data dir and ports, and the
            # previous start's output file closed first.
            self.stop()
        lib = fetch_jars()
        for port in (self.port, *([self.sasl_ssl.port] if self.sasl_ssl else [])):
            if not _port_is_free(port):
                raise BrokerError(
                    f"port {port} on {HOST} is taken: is a broker already running "
                    "(`make kafka`)? Stop it or choose another port."
                )
        if self._controller_port is None:
            # Predictable (19093 next to 19092) unless taken; the voters are read from the
            # config at each start, so a different port on a later start is fine.
            nxt = self.port + 1
            self._controller_port = nxt if _port_is_free(nxt) else free_port()
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.properties_path.write_text(
            render_server_properties(
                port=self.port,
                controller_port=self._controller_port,
                log_dirs=self.data_dir,
                sasl_ssl=self.sasl_ssl,
            )
        )
        if self.sasl_ssl is not None:
            self.properties_path.chmod(0o600)  # it holds the TLS private key
        classpath = f"{lib}/*"  # java expands the *, not the shell
        logging_flags = (
            f"-Dkafka.logs.dir={self.log_path.parent}",
            f"-Dlog4j.configuration=file:{LOG4J_PROPERTIES}",
        )
        if self._wipe_pending:
            # A mistyped --data-dir must not wipe something that is not a Kafka data dir.
            if any(self.data_dir.glob("*")) and not (self.data_dir / "meta.properties").is_file():
                raise BrokerError(f"refusing to wipe {self.data_dir}: it has no meta.properties")
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self._wipe_pending = False
        if not (self.data_dir / "meta.properties").is_file():
            self._format(classpath, logging_flags)

        argv = [
            _java(), f"-Xmx{self.heap}", *_JVM_FLAGS, *logging_flags,
            "-cp", classpath, "kafka.Kafka", str(self.properties_path),
        ]  # fmt: skip
        # Open as long as the JVM runs; stop() closes it.
        self._out = open(self.out_path, "wb")  # noqa: SIM115
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._proc = _spawn(argv, stdout=self._out)
        atexit.register(self.stop)
        try:
            self._wait_until_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self.bootstrap

    def _format(self, classpath: str, logging_flags: Sequence[str]) -> None:
        argv = [
            _java(), "-Xmx256m", *logging_flags, "-cp", classpath,
            "kafka.tools.StorageTool", "format",
            "-t", new_cluster_id(), "-c", str(self.properties_path),
        ]  # fmt: skip
        if self.sasl_ssl is not None:
            argv += self.sasl_ssl.scram_arguments()
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            output = done.stdout + done.stderr
            # The tool may echo a malformed --add-scram argument, password included.
            for password in self.sasl_ssl.users.values() if self.sasl_ssl else ():
                output = output.replace(password, "***")
            raise BrokerError(
                f"formatting {self.data_dir} failed (exit {done.returncode}):\n"
                + _tail_text(output)
            )

    def _wait_until_ready(self, timeout: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                raise BrokerError(
                    f"the Kafka JVM exited with code {code} while starting" + self._tails()
                )
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrokerError(
                    f"Kafka was not ready at {self.bootstrap} within {timeout:g} s" + self._tails()
                )
            if broker_reachable(self.bootstrap, min(left, 3.0)):
                return
            time.sleep(0.2)

    def _tails(self) -> str:
        if self._out is not None:
            self._out.flush()
        return (
            f"\n--- tail of {self.log_path}\n{_tail_file(self.log_path, self._log_offset)}"
            f"\n--- tail of {self.out_path}\n{_tail_file(self.out_path)}"
        )

    def stop(self, timeout: float = 30) -> None:
        """Stop the broker: SIGTERM (Kafka's clean shutdown), SIGKILL after ``timeout`` seconds.

        Returns once the JVM has exited. A no-op when it is not running.
        """
        proc, self._proc = self._proc, None
        atexit.unregister(self.stop)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("Kafka did not stop within %g s; killing it", timeout)
                # The whole session: nothing the JVM started may outlive it either.
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if self._out is not None:
            self._out.close()
            self._out = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LocalKafka({self.bootstrap!r}, data_dir={str(self.data_dir)!r}, pid={self.pid})"


# -- command line -----------------------------------------------------------------------------


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cli.broker start``: run the broker in the foreground until Ctrl-C.

    Prints the bootstrap string alone on the first line of stdout (for scripts).
    """
    parser = argparse.ArgumentParser(
        prog="python -m cli.broker", description="Run the local single-node KRaft Kafka broker."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="run the local broker in the foreground until Ctrl-C")
    start.add_argument("--port", type=int, default=DEFAULT_PORT)
    start.add_argument("--controller-port", type=int, default=None)
    start.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    start.add_argument(
        "--fresh", action="store_true", help="wipe the data dir first (new cluster id)"
    )
    start.add_argument("--heap", default="512m")
    start.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for readiness")
    args = parser.parse_args(argv)

    # `kill` and a closed terminal stop the broker as cleanly as Ctrl-C does. SIGINT is set too: a
    # process started in the background by a non-interactive shell inherits it ignored.
    signal.signal(signal.SIGINT, _raise_keyboard_interrupt)
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    signal.signal(signal.SIGHUP, _raise_keyboard_interrupt)
    kafka = LocalKafka(
        port=args.port,
        controller_port=args.controller_port,
        data_dir=args.data_dir,
        fresh=args.fresh,
        heap=args.heap,
    )
    try:
        started = time.monotonic()
        try:
            kafka.start(timeout=args.timeout)
        except BrokerError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(kafka.bootstrap, flush=True)
        print(
            f"Kafka ready in {time.monotonic() - started:.1f} s (pid {kafka.pid}); "
            f"data {kafka.data_dir}; log {kafka.log_path}. Ctrl-C stops it.",
            file=sys.stderr,
            flush=True,
        )
        assert kafka._proc is not None
        code = kafka._proc.wait()
        print(f"error: Kafka exited by itself (code {code})" + kafka._tails(), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("stopping Kafka…", file=sys.stderr, flush=True)
        return 0
    finally:
        kafka.stop()


def cmd_broker(args: argparse.Namespace) -> int:
    """``newswatch broker``: run the local Kafka broker in the foreground."""
    return main(["start", *args.broker_args]) or 0


if __name__ == "__main__":
    sys.exit(main())
