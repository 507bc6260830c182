"""The development broker's process: one KRaft Kafka JVM, started and stopped.

``newswatch run`` and the integration tests use :class:`LocalKafka` directly; ``make kafka`` and
``newswatch broker`` run it in the foreground (cli.broker.command). How it works, the measured
timings and the pitfalls are in deploy/kafka/README.md.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from cli.broker.config import SaslSslListener, render_server_properties
from cli.broker.jars import fetch_jars
from cli.broker.jvm import JVM_FLAGS, java_executable, spawn
from cli.broker.paths import DEFAULT_DATA_DIR, DEFAULT_PORT, LOG4J_PROPERTIES
from cli.broker.ports import free_port, port_is_free
from cli.broker.storage import format_data_dir, is_formatted, wipe_data_dir
from cli.broker.tails import tail_file
from shared.admin import HOST, BrokerError, broker_reachable

log = logging.getLogger(__name__)


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
        self._claim_ports()
        self._write_properties()
        classpath = f"{lib}/*"  # java expands the *, not the shell
        logging_flags = (
            f"-Dkafka.logs.dir={self.log_path.parent}",
            f"-Dlog4j.configuration=file:{LOG4J_PROPERTIES}",
        )
        self._prepare_data_dir(classpath, logging_flags)

        argv = [
            java_executable(), f"-Xmx{self.heap}", *JVM_FLAGS, *logging_flags,
            "-cp", classpath, "kafka.Kafka", str(self.properties_path),
        ]  # fmt: skip
        # Open as long as the JVM runs; stop() closes it.
        self._out = open(self.out_path, "wb")  # noqa: SIM115
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self._proc = spawn(argv, stdout=self._out)
        atexit.register(self.stop)
        try:
            self._wait_until_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self.bootstrap

    def _claim_ports(self) -> None:
        """Fail clearly on a taken listener port; choose the controller port if not given."""
        for port in (self.port, *([self.sasl_ssl.port] if self.sasl_ssl else [])):
            if not port_is_free(port):
                raise BrokerError(
                    f"port {port} on {HOST} is taken: is a broker already running "
                    "(`make kafka`)? Stop it or choose another port."
                )
        if self._controller_port is None:
            # Predictable (19093 next to 19092) unless taken; the voters are read from the
            # config at each start, so a different port on a later start is fine.
            nxt = self.port + 1
            self._controller_port = nxt if port_is_free(nxt) else free_port()

    def _write_properties(self) -> None:
        """Render server.properties into the work dir (and create the log dir)."""
        assert self._controller_port is not None
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

    def _prepare_data_dir(self, classpath: str, logging_flags: Sequence[str]) -> None:
        """Wipe the data dir on a fresh first start; format it when it is not formatted."""
        if self._wipe_pending:
            wipe_data_dir(self.data_dir)
            self._wipe_pending = False
        if not is_formatted(self.data_dir):
            format_data_dir(
                self.data_dir,
                properties_path=self.properties_path,
                classpath=classpath,
                logging_flags=logging_flags,
                sasl_ssl=self.sasl_ssl,
            )

    def _wait_until_ready(self, timeout: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while True:
            code = self._proc.poll()
            if code is not None:
                raise BrokerError(
                    f"the Kafka JVM exited with code {code} while starting" + self.log_tails()
                )
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrokerError(
                    f"Kafka was not ready at {self.bootstrap} within {timeout:g} s"
                    + self.log_tails()
                )
            if broker_reachable(self.bootstrap, min(left, 3.0)):
                return
            time.sleep(0.2)

    def log_tails(self) -> str:
        """The tails of this start's server.log and of the JVM's output, for an error message."""
        if self._out is not None:
            self._out.flush()
        return (
            f"\n--- tail of {self.log_path}\n{tail_file(self.log_path, self._log_offset)}"
            f"\n--- tail of {self.out_path}\n{tail_file(self.out_path)}"
        )

    def wait(self) -> int:
        """Block until the JVM started by :meth:`start` exits; return its exit status."""
        if self._proc is None:
            raise BrokerError("the broker was not started")
        return self._proc.wait()

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
