"""A real Prometheus for tests: the Debian binary on a free 127.0.0.1 port, scraping given targets.

    with Prometheus({"clean": "127.0.0.1:9101"}) as prom:
        prom.wait_for_targets()
        prom.wait_for('news_messages_consumed_total{service="clean"} > 0', timeout=30)
        series = prom.query('sum by (topic) (rate(news_messages_consumed_total[1m]))')

Each target becomes one scrape job named after its key (the service word, as in
deploy/prometheus/prometheus.yml), scraped every second into a temporary storage dir that is
removed on exit. A missing binary raises PrometheusNotFound: tests that need it fail, never skip.

Also here, for tests that evaluate the provisioned dashboards: ``dashboard_queries()`` lists every
panel query of deploy/grafana/dashboards/*.json and ``render_grafana_expr()`` replaces Grafana's
``$__rate_interval``-style variables so plain Prometheus can run the expression.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import yaml

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS_DIR = REPO / "deploy" / "grafana" / "dashboards"

# NEWS_PROMETHEUS_BIN overrides the binary (default: `prometheus` on PATH, Debian's /usr/bin one).
PROMETHEUS_BIN_ENV = "NEWS_PROMETHEUS_BIN"

# The domain metrics each service adds through ServiceMetrics.counter(name, doc, labels), as the
# service apps declare them; the standard set comes from shared.metrics.ServiceMetrics itself.
DOMAIN_METRICS: dict[str, dict[str, tuple[str, ...]]] = {
    "clean": {},
    "dedup": {"duplicates": ("kind",), "dedup_evicted": ()},
    "entities": {"entities": ("label",)},
    "alerts": {"alerts_fired": ("rule",), "events": ("rule", "status"), "events_evicted": ()},
    "stories": {"stories": ("status",), "stories_evicted": ()},
}


class PrometheusNotFound(RuntimeError):
    """The prometheus binary is not installed: install it (`apt-get install prometheus`)."""


class PrometheusError(RuntimeError):
    """Prometheus failed to start, or answered a request with an error."""


class PrometheusQueryError(PrometheusError):
    """A query was rejected (bad PromQL, unknown function, ...)."""

    def __init__(self, expr: str, error_type: str, error: str) -> None:
        super().__init__(f"{error_type}: {error}\n  in: {expr}")
        self.expr, self.error_type, self.error = expr, error_type, error


def find_prometheus() -> str:
    """The prometheus binary to run; raises PrometheusNotFound (never a skip) when there is none."""
    configured = os.environ.get(PROMETHEUS_BIN_ENV)
    path = shutil.which(configured or "prometheus")
    if path is None:
        raise PrometheusNotFound(
            f"prometheus binary not found ({configured or 'prometheus'} on PATH); "
            "install it with `apt-get install prometheus` or set "
            f"{PROMETHEUS_BIN_ENV} to its path"
        )
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrape_config(targets: Mapping[str, str], scrape_interval: str = "1s") -> dict[str, Any]:
    """A prometheus.yml (as a dict) with one job per ``{job: "host:port"}`` target."""
    return {
        "global": {
            "scrape_interval": scrape_interval,
            "scrape_timeout": scrape_interval,
            "evaluation_interval": scrape_interval,
        },
        "scrape_configs": [
            {"job_name": job, "static_configs": [{"targets": [address]}]}
            for job, address in targets.items()
        ],
    }


class Prometheus:
    """A real Prometheus process scraping ``targets``; a context manager that starts and stops it."""

    def __init__(
        self,
        targets: Mapping[str, str],
        *,
        scrape_interval: str = "1s",
        ready_timeout: float = 60.0,
        binary: str | None = None,
        rule_files: Sequence[Path] = (),
    ) -> None:
        if not targets:
            raise ValueError("Prometheus needs at least one scrape target")
        self.targets = dict(targets)
        self.scrape_interval = scrape_interval
        self.ready_timeout = ready_timeout
        self.binary = binary or find_prometheus()
        self.rule_files = [str(Path(f).resolve()) for f in rule_files]
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._dir: Path | None = None
        self._log_file: Any = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """Base URL of the HTTP API, e.g. ``http://127.0.0.1:41234``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """Where Prometheus's own log goes (kept until stop)."""
        assert self._dir is not None, "Prometheus not started"
        return self._dir / "prometheus.log"

    def start(self) -> Self:
        """Write the config, start the process and wait until /-/ready answers 200."""
        if self._proc is not None:
            raise PrometheusError("already started")
        self._dir = Path(tempfile.mkdtemp(prefix="newswatch-prom-"))
        config = self._dir / "prometheus.yml"
        settings = scrape_config(self.targets, self.scrape_interval)
        if self.rule_files:
            settings["rule_files"] = self.rule_files
        config.write_text(yaml.safe_dump(settings))
        self._log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        # A port can be taken between free_port() and the bind: try a few.
        for _attempt in range(3):
            self.port = free_port()
            self._proc = subprocess.Popen(
                [
                    self.binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={self._dir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--storage.tsdb.retention.time=1h",
                    "--log.level=warn",
                ],
                stdout=self._log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
            try:
                self._wait_ready()
                return self
            except PrometheusError:
                exited = self._proc.poll() is not None
                self._terminate()
                if not (exited and "address already in use" in self.log_tail()):
                    self.stop()
                    raise
        self.stop()
        raise PrometheusError(f"no free port after 3 tries\n{self.log_tail()}")

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise PrometheusError(
                    f"prometheus exited with {self._proc.returncode} before it was ready\n"
                    f"{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise PrometheusError(
            f"prometheus not ready after {self.ready_timeout:.0f}s\n{self.log_tail()}"
        )

    def _terminate(self) -> None:
        if self._proc is None:
            return
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
        self._proc = None

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 15 s) and remove its storage."""
        self._terminate()
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of Prometheus's log, for error messages."""
        if self._dir is None or not self.log_path.exists():
            return "(no log)"
        if self._log_file is not None:
            self._log_file.flush()
        text = self.log_path.read_text(errors="replace").splitlines()[-lines:]
        return "prometheus log:\n" + "\n".join(f"  {line}" for line in text)

    # ------------------------------------------------------------------ HTTP API

    def _get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        url = f"{self.url}{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = json.load(response)
        except urllib.error.HTTPError as err:
            # 400/422 carry the API's own JSON error.
            try:
                body = json.load(err)
            except ValueError:
                raise PrometheusError(f"GET {url}: HTTP {err.code}") from err
        return body

    def query(self, expr: str) -> list[Any]:
        """Evaluate ``expr`` now; returns ``data.result`` (a list of series, or ``[ts, value]``).

        Raises PrometheusQueryError when Prometheus rejects the expression.
        """
        body = self._get("/api/v1/query", {"query": expr})
        if body.get("status") != "success":
            raise PrometheusQueryError(
                expr, body.get("errorType", "?"), body.get("error", json.dumps(body))
            )
        return list(body["data"]["result"])

    def wait_for(self, expr: str, timeout: float = 30.0, interval: float = 0.5) -> list[Any]:
        """Poll ``expr`` until it returns a non-empty result; returns that result.

        A rejected expression raises at once (it will not get better); a timeout raises
        TimeoutError with the scrape targets' health, to tell "no data" from "no scrape".
        """
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(expr)
            if result:
                return result
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"no data after {timeout:.0f}s for: {expr}\n"
                    f"targets: {self.target_health()}\n{self.log_tail(10)}"
                )
            time.sleep(interval)

    def target_health(self) -> dict[str, str]:
        """``{job: "up" | "down" | "unknown" (+ last error)}`` for every scrape target."""
        body = self._get("/api/v1/targets", {"state": "active"})
        health = {}
        for target in body.get("data", {}).get("activeTargets", []):
            state = target.get("health", "unknown")
            if target.get("lastError"):
                state += f" ({target['lastError']})"
            health[target["labels"]["job"]] = state
        return health

    def wait_for_targets(self, timeout: float = 30.0) -> None:
        """Wait until every target has been scraped successfully at least once."""
        self.wait_for(f"count(up == 1) == {len(self.targets)}", timeout=timeout)


# ---------------------------------------------------------------------- dashboards


@dataclass(frozen=True)
class DashboardQuery:
    """One panel query of a provisioned dashboard."""

    dashboard: str  # file stem: overview, clean, ...
    panel: str  # panel title
    ref_id: str
    expr: str
    datasource_uid: str | None

    def __str__(self) -> str:
        return f"{self.dashboard}.json / {self.panel!r} / {self.ref_id}"


def iter_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in collapsed rows."""
    for panel in panels:
        yield panel
        yield from iter_panels(panel.get("panels", []))


def dashboard_queries(directory: Path = DASHBOARDS_DIR) -> list[DashboardQuery]:
    """Every target with an ``expr`` in every ``*.json`` dashboard of ``directory``."""
    queries = []
    for path in sorted(directory.glob("*.json")):
        dashboard = json.loads(path.read_text())
        for panel in iter_panels(dashboard.get("panels", [])):
            for target in panel.get("targets", []):
                if "expr" in target:
                    queries.append(
                        DashboardQuery(
                            dashboard=path.stem,
                            panel=panel.get("title", ""),
                            ref_id=target.get("refId", ""),
                            expr=target["expr"],
                            datasource_uid=(target.get("datasource") or {}).get("uid"),
                        )
                    )
    return queries


_GRAFANA_VAR = re.compile(r"\$\{?(__[a-z_]+)\}?")


def render_grafana_expr(expr: str, rate_interval: str = "1m") -> str:
    """Replace Grafana's built-in range variables so plain Prometheus can evaluate ``expr``.

    ``$__rate_interval``, ``$__interval`` and ``$__range`` become ``rate_interval``; an unknown
    variable raises ValueError rather than reaching Prometheus as a confusing parse error.
    """
    seconds = _duration_seconds(rate_interval)
    values = {
        "__rate_interval": rate_interval,
        "__interval": rate_interval,
        "__range": rate_interval,
        "__interval_ms": str(seconds * 1000),
        "__range_ms": str(seconds * 1000),
        "__range_s": str(seconds),
    }

    def substitute(match: re.Match[str]) -> str:
        if match.group(1) not in values:
            raise ValueError(f"unknown Grafana variable ${match.group(1)} in: {expr}")
        return values[match.group(1)]

    rendered = _GRAFANA_VAR.sub(substitute, expr)
    if "$" in rendered:
        raise ValueError(f"unrendered Grafana variable in: {expr}")
    return rendered


def _duration_seconds(duration: str) -> int:
    match = re.fullmatch(r"(\d+)([smh])", duration)
    if match is None:
        raise ValueError(f"rate_interval must look like 30s, 1m or 1h, not {duration!r}")
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]
