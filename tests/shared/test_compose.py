"""docker-compose.yml, deploy/.env, deploy/prometheus and the Dockerfile agree with each other and the code.

There is no Docker engine (nor compose plugin) here, so the file is validated against the official
Compose Specification JSON schema as vendored by the `check-jsonschema` package
(check_jsonschema/builtin_schemas/vendor/compose-spec.json), once as written and once with
deploy/.env interpolated. The rest checks what the schema cannot: service words, commands,
ports, settings names, and that Prometheus scrapes what the services serve.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic import AliasChoices

from shared.metrics import DEFAULT_PORTS
from shared.settings import ServiceSettings
from shared.topics import SERVICES

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_FILE = REPO / "deploy" / ".env"
PROMETHEUS_CONFIG = REPO / "deploy" / "prometheus" / "prometheus.yml"
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"

INFRA = {"kafka", "topics", "prometheus", "grafana"}

# ${VAR}, ${VAR:?err}, ${VAR?err}, ${VAR:-default}, ${VAR-default}, ${VAR:+alt}, $VAR and $$.
_INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))"
)


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a compose env file (comments and blank lines skipped)."""
    env = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key), f"{path}:{number}: {line!r}"
        assert key not in env, f"{path}:{number}: {key} defined twice"
        env[key] = value.strip()
    return env


def interpolate(node: Any, env: dict[str, str], used: set[str], missing: set[str]) -> Any:
    """Compose-style ${VAR} interpolation of every string in ``node``."""
    if isinstance(node, dict):
        return {k: interpolate(v, env, used, missing) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env, used, missing) for v in node]
    if not isinstance(node, str):
        return node

    def substitute(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        name = match.group("braced") or match.group("plain")
        used.add(name)
        op, arg = match.group("op") or "", match.group("arg") or ""
        value = env.get(name)
        unset = value is None or (op.startswith(":") and value == "")
        if op.endswith("-"):
            return arg if unset else str(value)
        if op.endswith("+"):
            return "" if unset else arg
        if unset:
            missing.add(name)
            return ""
        return str(value)

    return _INTERPOLATION.sub(substitute, node)


@pytest.fixture(scope="module")
def raw_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return read_env_file(ENV_FILE)


@pytest.fixture(scope="module")
def compose(raw_compose: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """docker-compose.yml as compose would see it with --env-file deploy/.env."""
    used: set[str] = set()
    missing: set[str] = set()
    result = interpolate(raw_compose, env, used, missing)
    assert not missing, f"docker-compose.yml uses variables deploy/.env lacks: {sorted(missing)}"
    return result


@pytest.fixture(scope="module")
def compose_schema_validator() -> jsonschema.protocols.Validator:
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    # It says "https://json-schema.org/draft-07/schema", a spelling jsonschema does not map to a
    # draft (it would fall back to the newest with a warning), so pick draft 7 by hand.
    assert "draft-07" in schema["$schema"], schema["$schema"]
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def schema_errors(validator: jsonschema.protocols.Validator, document: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    ]


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a dict, whichever of compose's two spellings it uses."""
    value = service.get("environment") or {}
    if isinstance(value, list):
        value = dict(item.split("=", 1) for item in value)
    return {k: "" if v is None else str(v) for k, v in value.items()}


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{service}.settings")
    classes = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, ServiceSettings) and obj is not ServiceSettings
    ]
    assert len(classes) == 1, f"services/{service}/settings.py: expected one settings class"
    return classes[0]


def setting_env_names(cls: type[ServiceSettings]) -> set[str]:
    """The NEWS_* variable names a settings class reads."""
    prefix = cls.model_config.get("env_prefix", "")
    names: set[str] = set()
    for field_name, info in cls.model_fields.items():
        alias = info.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice).upper() for choice in alias.choices)
        elif isinstance(alias, str):
            names.add(alias.upper())
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


# ------------------------------------------------------------------------------- the schema


def test_compose_file_matches_the_compose_spec_schema(
    raw_compose: dict[str, Any], compose_schema_validator: jsonschema.protocols.Validator
) -> None:
    errors = schema_errors(compose_schema_validator, raw_compose)
    assert not errors, "docker-compose.yml vs compose-spec:\n" + "\n".join(errors)


def test_interpolated_compose_file_matches_the_compose_spec_schema(
    compose: dict[str, Any], compose_schema_validator: jsonschema.protocols.Validator
) -> None:
    errors = schema_errors(compose_schema_validator, compose)
    assert not errors, "docker-compose.yml + deploy/.env vs compose-spec:\n" + "\n".join(errors)


def test_schema_check_catches_a_broken_file(
    compose: dict[str, Any], compose_schema_validator: jsonschema.protocols.Validator
) -> None:
    broken = json.loads(json.dumps(compose))
    broken["services"]["clean"]["depends_on"] = {"topics": {"condition": "service_finished"}}
    broken["services"]["dedup"]["restart_policy"] = "always"
    errors = schema_errors(compose_schema_validator, broken)
    assert any("services/clean/depends_on" in e for e in errors), errors
    assert any("services/dedup" in e and "restart_policy" in e for e in errors), errors


# ------------------------------------------------------------------------------- deploy/.env


def test_every_env_file_variable_is_used(raw_compose: dict[str, Any], env: dict[str, str]) -> None:
    used: set[str] = set()
    interpolate(raw_compose, env, used, set())
    assert set(env) - used == set(), "deploy/.env defines variables compose never uses"


def test_metrics_ports_in_env_file_are_the_default_ports(env: dict[str, str]) -> None:
    for service, port in DEFAULT_PORTS.items():
        assert env[f"NEWS_{service.upper()}_METRICS_PORT"] == str(port)


# ------------------------------------------------------------------------------- services


def test_compose_services_are_the_service_words_and_the_infrastructure(
    compose: dict[str, Any],
) -> None:
    assert set(compose["services"]) == {*SERVICES, *INFRA}
    assert compose.get("name") == "newswatch"


@pytest.mark.parametrize("service", SERVICES)
def test_service_runs_its_faust_worker(compose: dict[str, Any], service: str) -> None:
    spec = compose["services"][service]
    assert spec["command"] == [
        "python",
        "-m",
        f"services.{service}.app",
        "worker",
        "--without-web",
        "-l",
        "info",
    ]
    assert (REPO / "services" / service / "app.py").is_file()
    assert spec["image"] == compose["services"]["topics"]["image"], "one image for all services"
    assert spec["build"]["context"] == "."
    assert spec["depends_on"]["topics"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("service", SERVICES)
def test_service_environment_is_explicit_and_known(compose: dict[str, Any], service: str) -> None:
    spec = compose["services"][service]
    assert "env_file" not in spec, "list the variables explicitly (STYLE.md §5)"
    env = environment(spec)
    assert env["NEWS_KAFKA_BOOTSTRAP"] == "kafka:9092"
    assert env["NEWS_METRICS_HOST"] == "0.0.0.0"
    assert env["NEWS_METRICS_PORT"] == str(DEFAULT_PORTS[service])
    cls = settings_class(service)
    unknown = set(env) - setting_env_names(cls)
    assert not unknown, f"{service}: {sorted(unknown)} are not settings of {cls.__name__}"


@pytest.mark.parametrize("service", SERVICES)
def test_service_environment_parses_as_its_settings(
    compose: dict[str, Any], service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = environment(compose["services"][service])
    cls = settings_class(service)
    for name in setting_env_names(cls):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = cls()
    assert settings.metrics_port == DEFAULT_PORTS[service]
    assert settings.kafka_bootstrap == "kafka:9092"


@pytest.mark.parametrize("service", SERVICES)
def test_service_publishes_its_metrics_port(compose: dict[str, Any], service: str) -> None:
    port = DEFAULT_PORTS[service]
    assert compose["services"][service]["ports"] == [f"127.0.0.1:{port}:{port}"]


def test_topics_service_creates_the_topics_once(compose: dict[str, Any]) -> None:
    spec = compose["services"]["topics"]
    assert spec["command"] == ["newswatch", "topics", "--bootstrap", "kafka:9092"]
    assert spec["restart"] == "no"
    assert spec["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert "newswatch" in tomllib_scripts()


def tomllib_scripts() -> dict[str, str]:
    import tomllib

    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]


def test_kafka_is_a_single_kraft_node_without_auto_create(compose: dict[str, Any]) -> None:
    spec = compose["services"]["kafka"]
    assert re.fullmatch(r"apache/kafka:3\.9\.\d+", spec["image"])
    env = environment(spec)
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert "INTERNAL://kafka:9092" in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env["CLUSTER_ID"]
    assert spec["healthcheck"]["test"]


def test_kafka_image_matches_the_local_broker_version(compose: dict[str, Any]) -> None:
    pom = (REPO / "deploy" / "kafka" / "pom.xml").read_text()
    version = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert version, "deploy/kafka/pom.xml: no kafka.version"
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{version.group(1)}"


def test_bind_mounts_exist(compose: dict[str, Any]) -> None:
    for name, spec in compose["services"].items():
        for volume in spec.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume["source"]
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name}: {source} does not exist"


def test_grafana_mounts_provisioning_and_dashboards(compose: dict[str, Any]) -> None:
    mounts = dict(v.split(":")[:2] for v in compose["services"]["grafana"]["volumes"])
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    provider = yaml.safe_load(
        (REPO / "deploy/grafana/provisioning/dashboards/newswatch.yaml").read_text()
    )
    (path,) = {p["options"]["path"] for p in provider["providers"]}
    assert mounts["./deploy/grafana/dashboards"] == path
    home = environment(compose["services"]["grafana"])["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{path}/overview.json"


# ------------------------------------------------------------------------------- prometheus


def test_prometheus_scrapes_each_service_by_its_compose_name() -> None:
    config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
    jobs = {
        job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]]
        for job in config["scrape_configs"]
    }
    for service, port in DEFAULT_PORTS.items():
        assert jobs.pop(service) == [f"{service}:{port}"]
    assert set(jobs) <= {"prometheus"}


def test_prometheus_config_is_valid_for_promtool() -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool not found: apt-get install prometheus"
    result = subprocess.run(
        [promtool, "check", "config", str(PROMETHEUS_CONFIG)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_mounts_the_prometheus_config(compose: dict[str, Any]) -> None:
    volumes = compose["services"]["prometheus"]["volumes"]
    assert "./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in volumes


# ------------------------------------------------------------------------------- the image


def test_dockerfile_builds_one_non_root_image_with_the_model() -> None:
    text = DOCKERFILE.read_text()
    bases = re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)
    assert bases and all(base == "python:3.11-slim" for base in bases)
    assert 'pip install ".[model]"' in text
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert "model" in tomllib_optional_dependencies()


def tomllib_optional_dependencies() -> dict[str, list[str]]:
    import tomllib

    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]


def test_dockerignore_lets_in_everything_the_dockerfile_copies() -> None:
    allowed = {
        line[1:].rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.startswith("!")
    }
    for line in re.findall(r"^COPY\s+(?!--from)(.+)$", DOCKERFILE.read_text(), re.MULTILINE):
        *sources, _dest = line.split()
        for source in sources:
            assert source.rstrip("/") in allowed, f".dockerignore excludes {source}"
