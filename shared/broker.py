"""Run the project's own single-node KRaft Kafka broker (jars from Maven Central); create topics.

``make kafka`` runs ``python -m shared.broker start``; ``newswatch run`` and the integration tests
use :class:`LocalKafka` directly. How it works, the measured timings and the pitfalls are in
deploy/kafka/README.md. Standard library and kafka-python only, so it imports no pydantic
(aiokafka only to explain a refused login: :func:`explain_refusal`). The admin helpers take
kafka-python's security arguments (``shared.security.kafka_python_kwargs``) for secured brokers.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import base64
import ctypes
import fcntl
import hashlib
import logging
import os
import shutil
import signal
import socket
import ssl
import string
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Self

from kafka import KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError

if TYPE_CHECKING:
    from shared.topics import TopicSpec

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
HOST = "127.0.0.1"

_MARKER_NAME = ".fetched"  # holds the sha256 of the pom the jars were copied for
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# Flags from Kafka's kafka-run-class.sh, minus JMX, which nothing here reads.
_JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)


class BrokerError(RuntimeError):
    """The local broker could not be fetched, formatted, started or used."""


class KafkaAccessError(BrokerError):
    """A broker answered but refused this client: the SASL login or the TLS handshake failed."""


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


def _any_accepts(bootstrap: str, timeout: float) -> bool:
    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        try:
            with socket.create_connection((host or HOST, int(port)), timeout=timeout):
                return True
        except (OSError, ValueError):
            continue
    return False


# -- probes and topics ------------------------------------------------------------------------


def explain_refusal(
    bootstrap: str, security: Mapping[str, Any] | None, timeout: float = 10.0
) -> KafkaAccessError | None:
    """Why the broker at ``bootstrap`` refuses a client with ``security``, if it does, else None.

    Opens one connection per address with aiokafka (imported here, only on this failure path)
    and returns a :class:`KafkaAccessError` for a refused SASL login or TLS handshake; ``None``
    for PLAINTEXT, for a login that succeeds, and for anything else (nothing listening, a client
    that speaks no TLS to a TLS port: those stay the caller's own error).

    Why not kafka-python's own error: kafka-python 3.0.12 drops bytes that arrive in the same
    read as the peer's close (``kafka/net/transport.py``, ``_read_from_sock``), and a broker sends
    its SASL refusal right before closing, so a wrong password mostly shows as "socket
    disconnected" and then ``KafkaTimeoutError("Unable to bootstrap …")``. aiokafka reads the
    refusal before the close.
    """
    security = dict(security or {})
    protocol = security.get("security_protocol", "PLAINTEXT")
    if protocol == "PLAINTEXT" or (protocol.endswith("SSL") and not security.get("ssl_context")):
        return None
    keys = ("security_protocol", "ssl_context", "sasl_mechanism", "sasl_plain_username",
            "sasl_plain_password")  # fmt: skip
    conn_kwargs = {key: security[key] for key in keys if key in security}

    async def probe(host: str, port: int) -> KafkaAccessError | None:
        from aiokafka.conn import create_conn
        from aiokafka.errors import KafkaError as AioKafkaError
        from aiokafka.errors import SaslAuthenticationFailed, UnsupportedSaslMechanismError

        try:
            conn = await asyncio.wait_for(
                create_conn(host, port, request_timeout_ms=int(timeout * 1000), **conn_kwargs),
                timeout,
            )
        except SaslAuthenticationFailed as error:
            return KafkaAccessError(f"Kafka at {bootstrap} refused the SASL login: {error}")
        except UnsupportedSaslMechanismError:
            offered = f"SASL mechanism {conn_kwargs.get('sasl_mechanism')}"
            return KafkaAccessError(f"Kafka at {bootstrap} does not offer {offered}")
        except ssl.SSLError as error:
            return KafkaAccessError(f"TLS handshake with Kafka at {bootstrap} failed: {error}")
        except (OSError, TimeoutError, AioKafkaError):
            return None
        conn.close()
        return None

    for address in bootstrap.split(","):
        host, _, port = address.strip().rpartition(":")
        if not port.isdigit():
            continue
        # A thread of its own: the caller may itself run inside an event loop.
        with ThreadPoolExecutor(1) as pool:
            refusal = pool.submit(asyncio.run, probe(host or HOST, int(port))).result()
        if refusal is not None:
            return refusal
    return None


@contextmanager
def reveal_access_failures(
    bootstrap: str, security: Mapping[str, Any] | None = None
) -> Iterator[None]:
    """Around a kafka-python client's construction: raise :class:`KafkaAccessError` for a refusal.

    When the block fails with a ``KafkaError`` (kafka-python gives up bootstrapping) and
    :func:`explain_refusal` finds a refused SASL login or TLS handshake, that is raised instead
    (from the original error); otherwise the original error goes on unchanged.
    """
    try:
        yield
    except KafkaError as exc:
        refusal = explain_refusal(bootstrap, security)
        if refusal is None:
            raise
        raise refusal from exc


def _admin(
    bootstrap: str, timeout: float, security: Mapping[str, Any] | None = None
) -> KafkaAdminClient:
    ms = max(int(timeout * 1000), 100)
    with reveal_access_failures(bootstrap, security):
        return KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="newswatch-broker",
            bootstrap_timeout_ms=ms,
            request_timeout_ms=ms,
            **(security or {}),
        )


def broker_reachable(
    bootstrap: str, timeout: float = 3.0, *, security: Mapping[str, Any] | None = None
) -> bool:
    """Whether a metadata request to ``bootstrap`` succeeds and lists at least one broker.

    An open port is not enough: the listener accepts before the broker has registered, and until
    then topic creation fails with "only 0 broker(s) are registered". ``security`` is
    kafka-python's security keyword arguments (``shared.security.kafka_python_kwargs``);
    ``None`` means PLAINTEXT. A broker that answers but refuses the SASL login or the TLS
    handshake is not "unreachable": that raises :class:`KafkaAccessError`.
    """
    # A plain connect first: it is silent and quick where kafka-python would log every refused
    # connection and back off for the whole timeout.
    if not _any_accepts(bootstrap, timeout):
        return False
    try:
        admin = _admin(bootstrap, timeout, security)
    except (KafkaError, OSError):
        return False
    try:
        return bool(admin.describe_cluster()["brokers"])
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()


def ensure_topics(
    bootstrap: str,
    specs: Iterable[TopicSpec],
    default_partitions: int,
    timeout: float = 30.0,
    *,
    security: Mapping[str, Any] | None = None,
) -> list[str]:
    """Create the topics of ``specs`` that do not exist yet, and return their names.

    Each gets ``spec.partitions`` (or ``default_partitions``) partitions and replication 1.
    Existing topics keep their partitions (a differing count is logged as a warning) but get the
    spec's configs set (incrementally: other configs stay), so a topic created before its record
    size limit was raised takes the records the stages now emit.
    Returns once every created topic has a leader for each partition in the metadata.
    ``security`` is kafka-python's security keyword arguments
    (``shared.security.kafka_python_kwargs``); ``None`` means PLAINTEXT.
    """
    if default_partitions < 1:
        raise ValueError(f"default_partitions must be >= 1, not {default_partitions}")
    specs = list(specs)
    configs = {spec.name: dict(getattr(spec, "configs", {}) or {}) for spec in specs}
    wanted = {spec.name: spec.partitions or default_partitions for spec in specs}
    if not wanted:
        return []
    try:
        admin = _admin(bootstrap, timeout, security)
    except KafkaError as exc:
        raise BrokerError(f"no Kafka broker at {bootstrap}: {exc}") from exc
    try:
        existing = set(admin.list_topics())
        _warn_on_partition_mismatch(admin, {n: p for n, p in wanted.items() if n in existing})
        _align_configs(admin, {n: c for n, c in configs.items() if n in existing and c})
        missing = {n: p for n, p in wanted.items() if n not in existing}
        if not missing:
            return []
        response = admin.create_topics(
            {
                n: {"num_partitions": p, "replication_factor": 1, "configs": configs[n]}
                for n, p in missing.items()
            },
            timeout_ms=int(timeout * 1000),
            raise_errors=False,
        )
        created, failed = [], []
        for topic in response["topics"]:
            # Another process may have created it since list_topics: that is the goal anyway.
            if topic["error_code"] == TopicAlreadyExistsError.errno:
                continue
            if topic["error_code"]:
                failed.append(
                    f"{topic['name']}: {topic.get('error_message') or topic['error_code']}"
                )
            else:
                created.append(topic["name"])
        if failed:
            raise BrokerError(f"could not create topics on {bootstrap}: " + "; ".join(failed))
        admin.wait_for_topics(created, timeout_ms=int(timeout * 1000))
        return [n for n in missing if n in created]
    finally:
        admin.close()


def _align_configs(admin: KafkaAdminClient, configs: dict[str, dict[str, str]]) -> None:
    """Set the spec's configs on existing topics where they differ (no-op when they match)."""
    from kafka.admin import ConfigResource, ConfigResourceType

    if not configs:
        return
    described = admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name, configs=dict.fromkeys(wanted)) for name, wanted in configs.items()],
        config_filter="all",
    )
    current: dict[str, Any] = next(iter(described.values()), {}) if described else {}
    changes = []
    for name, wanted in configs.items():
        have = current.get(name, {})
        differing = {k: v for k, v in wanted.items() if str((have.get(k) or {}).get("value")) != v}
        if differing:
            changes.append(ConfigResource(ConfigResourceType.TOPIC, name, configs=differing))
    if changes:
        try:
            admin.alter_configs(changes)
        except KafkaError as exc:  # e.g. no AlterConfigs permission on a managed cluster: say what to set
            log.warning("could not set %s: %s; set them on the cluster", {c.name: c.configs for c in changes}, exc)
            return
        log.info("topic configs set: %s", {c.name: c.configs for c in changes})


def _warn_on_partition_mismatch(admin: KafkaAdminClient, expected: dict[str, int]) -> None:
    if not expected:
        return
    for topic in admin.describe_topics(list(expected)):
        have = len(topic.get("partitions") or [])
        if have != expected[topic["name"]]:
            log.warning(
                "topic %s has %d partitions, the spec asks for %d; left as it is",
                topic["name"], have, expected[topic["name"]],
            )  # fmt: skip


# -- the broker process -----------------------------------------------------------------------


def die_with_parent(sig: int = signal.SIGKILL) -> Callable[[], None] | None:
    """Build a preexec_fn that makes the child get ``sig`` when this process dies (Linux only).

    SIGKILL by default, for the broker: the parent is already gone abnormally and nobody would wait for a
    shutdown hook that hangs; Kafka loses nothing when its process dies (written data is in the
    page cache) and recovers the log on the next start.
    """
    if not sys.platform.startswith("linux"):
        return None
    # Loaded before fork: the child should only call into an already loaded library.
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
        # The parent may have died between fork and prctl, which would never signal us.
        if os.getppid() != parent:
            os._exit(1)

    return preexec


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
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
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
    """``python -m shared.broker start``: run the broker in the foreground until Ctrl-C.

    Prints the bootstrap string alone on the first line of stdout (for scripts).
    """
    parser = argparse.ArgumentParser(
        prog="python -m shared.broker", description="Run the local single-node KRaft Kafka broker."
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


if __name__ == "__main__":
    sys.exit(main())
