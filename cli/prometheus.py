"""The local Prometheus of ``newswatch run``: the installed binary scraping the workers, with the rules."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from cli.settings import tool_environment
from shared.worker.lifecycle import die_with_parent

REPO = Path(__file__).resolve().parent.parent
RULES = REPO / "deploy" / "prometheus" / "rules.yml"
STALL_RULE = "NewswatchPipelineStalled"
STALL_WINDOW = "5m"  # as written in RULES


class PrometheusFailed(RuntimeError):
    """The local Prometheus did not become ready (its log tail says why)."""


def rules_with_stall_window(rules: dict[str, Any], window: str, for_: str) -> dict[str, Any]:
    """``rules`` (a loaded rules.yml) with the stall rule's window and ``for`` replaced (tests: 30s)."""
    found = False
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == STALL_RULE:
                rule["expr"] = rule["expr"].replace(f"[{STALL_WINDOW}]", f"[{window}]")
                rule["for"] = for_
                found = True
    if not found:
        raise ValueError(f"no {STALL_RULE} rule")
    return rules


def local_config(
    targets: Mapping[str, str],
    rule_files: list[str],
    scrape_interval: str = "5s",
    jobs: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A prometheus.yml (as a dict) scraping ``{name: "host:port"}`` targets.

    A target's job is ``jobs[name]``, else its name: one job per service, as in compose. A target
    named in ``jobs`` carries its name as the ``worker`` label, which tells a service's workers
    apart; never as ``service``, which the scraped series carry themselves (a target label of the
    same name would rename theirs to ``exported_service``).
    """
    statics: dict[str, list[dict[str, Any]]] = {}
    for name, address in targets.items():
        static: dict[str, Any] = {"targets": [address]}
        if jobs is not None and name in jobs:
            static["labels"] = {"worker": name}
        statics.setdefault((jobs or {}).get(name, name), []).append(static)
    return {
        "global": {
            "scrape_interval": scrape_interval,
            "scrape_timeout": scrape_interval,
            "evaluation_interval": scrape_interval,
        },
        "rule_files": rule_files,
        "scrape_configs": [
            {"job_name": job, "static_configs": configs} for job, configs in statics.items()
        ],
    }


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalPrometheus:
    """The installed ``prometheus`` on 127.0.0.1 with a generated config, in a temporary storage dir.

    ``rules``: the rules as loaded from RULES (or a variant); written beside the config.
    ``targets`` and ``jobs``: as :func:`local_config` takes them.
    """

    def __init__(
        self,
        binary: str,
        targets: Mapping[str, str],
        rules: dict[str, Any],
        *,
        log_path: Path,
        port: int = 0,
        scrape_interval: str = "5s",
        jobs: Mapping[str, str] | None = None,
    ) -> None:
        self.binary = binary
        self.targets = dict(targets)
        self.jobs = dict(jobs) if jobs is not None else None
        self.rules = rules
        self.log_path = log_path
        self.port = port
        self.scrape_interval = scrape_interval
        self.proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None

    @classmethod
    def installed(cls) -> str | None:
        """The path of the installed binary, or None."""
        return shutil.which("prometheus")

    @property
    def url(self) -> str:
        """Its base URL, e.g. ``http://127.0.0.1:41234``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> str:
        """Write the config and rules, start it, wait for /-/ready; returns its URL."""
        self._dir = Path(tempfile.mkdtemp(prefix="newswatch-prometheus-"))
        (self._dir / "rules.yml").write_text(yaml.safe_dump(self.rules, sort_keys=False))
        config = self._dir / "prometheus.yml"
        config.write_text(
            yaml.safe_dump(
                local_config(self.targets, ["rules.yml"], self.scrape_interval, self.jobs)
            )
        )
        self.port = self.port or free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    self.binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={self._dir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--storage.tsdb.retention.time=1d",
                    "--log.level=warn",
                ],
                # No NEWS_* settings: it is not a worker (tests find workers by NEWS_GROUP_SUFFIX).
                env=tool_environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches newswatch, which stops it in order
                preexec_fn=die_with_parent(signal.SIGTERM),  # noqa: PLW1509 — no threads of ours use it
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PrometheusFailed(
                    f"prometheus exited with {self.proc.returncode}: {self.tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return self.url
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise PrometheusFailed(f"prometheus not ready after {timeout:.0f} s: {self.tail()}")

    def tail(self, lines: int = 5) -> str:
        """The last lines of its log."""
        try:
            return " | ".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, SIGKILL after ``timeout``; its storage is removed."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


def load_rules(path: Path = RULES) -> dict[str, Any]:
    """The project's alerting rules, as loaded YAML."""
    rules: dict[str, Any] = yaml.safe_load(path.read_text())
    return rules
