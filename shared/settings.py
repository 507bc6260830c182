"""Settings every service shares, read from ``NEWS_*`` environment variables (defaults in deploy/.env)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from shared.topics import SERVICES

DEFAULT_BOOTSTRAP = "127.0.0.1:19092"


def _secret_text(value: str | SecretStr) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _listed(names: list[str]) -> str:
    return f"{names[0]} is" if len(names) == 1 else f"{', '.join(names)} are"


def parse_worker_count(text: str) -> tuple[str, int]:
    """``entities=2`` as ``("entities", 2)``: a service word and how many workers it runs.

    Raises ValueError saying what is wrong: not ``SERVICE=N``, a service that does not exist, or
    a count below 1.
    """
    service, equals, count = (part.strip() for part in text.partition("="))
    try:
        number = int(count) if equals else None
    except ValueError:
        number = None
    if number is None:
        raise ValueError(f"{text.strip()!r} is not SERVICE=N (e.g. entities=2)")
    if service not in SERVICES:
        raise ValueError(f"{text.strip()!r}: no service {service!r} (one of {', '.join(SERVICES)})")
    if number < 1:
        raise ValueError(f"{text.strip()!r}: a service runs at least 1 worker")
    return service, number


def parse_worker_counts(text: str) -> dict[str, int]:
    """``entities=2,alerts=2`` as ``{"entities": 2, "alerts": 2}`` (a service named twice: the last wins)."""
    return dict(parse_worker_count(item) for item in text.split(",") if item.strip())


class ServiceSettings(BaseSettings):
    """Base settings; each service subclasses it in ``services/<svc>/settings.py``."""

    # hide_input_in_errors: a validation error would otherwise print every NEWS_* value it was
    # given, NEWS_KAFKA_SASL_PASSWORD included.
    model_config = SettingsConfigDict(
        env_prefix="NEWS_",
        frozen=True,
        extra="ignore",
        hide_input_in_errors=True,
        # Compose passes an unset variable as empty (`${VAR:-}`): empty means "not set".
        env_ignore_empty=True,
    )

    # Every field has a description: docs/configuration.md is generated from them (make docs).
    kafka_bootstrap: str = Field(
        default=DEFAULT_BOOTSTRAP, description="Kafka bootstrap servers, host:port[,host:port...]."
    )
    # How every Kafka client (faust workers, CLI, admin) joins the cluster; shared.security maps
    # these to each client library, and check_kafka_security rejects inconsistent combinations.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT",
        description="How every Kafka client joins the cluster (docs/security.md).",
    )
    kafka_sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"] | None = Field(
        default=None, description="The SASL mechanism; required with SASL_SSL or SASL_PLAINTEXT."
    )
    kafka_sasl_username: str | None = Field(
        default=None, description="The SASL login; required with SASL."
    )
    kafka_sasl_password: SecretStr | None = Field(
        default=None, description="The SASL password; required with SASL. Never logged."
    )
    kafka_ssl_cafile: Path | None = Field(
        default=None,
        description="PEM CA bundle that signed the brokers' certificates; unset: the system's CAs.",
    )
    kafka_ssl_certfile: Path | None = Field(
        default=None, description="PEM client certificate (mutual TLS), optional."
    )
    kafka_ssl_keyfile: Path | None = Field(
        default=None, description="Its private key, if not inside the certfile."
    )
    kafka_ssl_key_password: SecretStr | None = Field(
        default=None, description="The private key's password, if it has one."
    )
    kafka_ssl_check_hostname: bool = Field(
        default=True,
        description="Check the broker's hostname against its certificate (the chain is verified "
        "either way).",
    )

    @field_validator(
        "kafka_sasl_mechanism", "kafka_sasl_username", "kafka_sasl_password", "kafka_ssl_cafile",
        "kafka_ssl_certfile", "kafka_ssl_keyfile", "kafka_ssl_key_password", mode="before",
    )  # fmt: skip
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # Compose passes `NEWS_KAFKA_SASL_USERNAME=${NEWS_KAFKA_SASL_USERNAME:-}` as "".
        return None if value == "" else value

    @field_validator("kafka_security_protocol", "kafka_sasl_mechanism", mode="before")
    @classmethod
    def _upper_case(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def check_kafka_security(self) -> Self:
        """Reject security settings that contradict each other or name missing files.

        Each message names the environment variables to set or unset; never a secret's value.
        """
        env = {name: f"{self.model_config.get('env_prefix', '')}{name}".upper()
               for name in type(self).model_fields}  # fmt: skip
        protocol = self.kafka_security_protocol
        where = f"{env['kafka_security_protocol']}={protocol}"
        problems = []
        sasl = {"kafka_sasl_mechanism": self.kafka_sasl_mechanism,
                "kafka_sasl_username": self.kafka_sasl_username,
                "kafka_sasl_password": self.kafka_sasl_password}  # fmt: skip
        tls = {"kafka_ssl_cafile": self.kafka_ssl_cafile,
               "kafka_ssl_certfile": self.kafka_ssl_certfile,
               "kafka_ssl_keyfile": self.kafka_ssl_keyfile,
               "kafka_ssl_key_password": self.kafka_ssl_key_password}  # fmt: skip
        if protocol.startswith("SASL_"):
            missing = [env[n] for n, v in sasl.items() if v is None or not _secret_text(v)]
            if missing:
                problems.append(f"{where} needs {', '.join(missing)}")
        elif set_anyway := [env[n] for n, v in sasl.items() if v is not None]:
            problems.append(
                f"{_listed(set_anyway)} only used with SASL_SSL or SASL_PLAINTEXT, "
                f"not {where}: set the protocol or unset them"
            )
        if protocol in ("SSL", "SASL_SSL"):
            if self.kafka_ssl_keyfile is not None and self.kafka_ssl_certfile is None:
                problems.append(f"{env['kafka_ssl_keyfile']} needs {env['kafka_ssl_certfile']}")
            if self.kafka_ssl_key_password is not None and self.kafka_ssl_certfile is None:
                problems.append(
                    f"{env['kafka_ssl_key_password']} needs {env['kafka_ssl_certfile']}"
                )
            for name in ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile"):
                path = getattr(self, name)
                if path is not None and not Path(path).is_file():
                    problems.append(f"{env[name]}={path}: no such file")
        else:
            set_anyway = [env[n] for n, v in tls.items() if v is not None]
            if not self.kafka_ssl_check_hostname:
                set_anyway.append(env["kafka_ssl_check_hostname"])
            if set_anyway:
                problems.append(
                    f"{_listed(set_anyway)} only used with SSL or SASL_SSL, not "
                    f"{where}: set the protocol or unset them"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    metrics_host: str = Field(
        default="127.0.0.1", description="Address /metrics listens on (0.0.0.0 inside Compose)."
    )
    metrics_port: int = Field(
        default=0,
        description="Port of /metrics; 0: the service's own default (shared.metrics.DEFAULT_PORTS: "
        "9101-9105 for clean, dedup, entities, alerts, stories).",
    )
    log_level: str = Field(default="info", description="Log level of the workers.")
    topic_partitions: int = Field(
        default=3,
        ge=1,
        description="Partitions of each topic created at start-up (news.clean-article.v1 always "
        "has one: dedup's index must see every article).",
    )
    # faust's 60 s default made a restarted worker idle for ~110 s (notes/faust-lessons.md).
    session_timeout_s: float = Field(
        default=10.0,
        description="How long a restarted worker waits before the group hands its partitions to "
        "someone else: a restarted worker gets its partitions back quickly.",
    )
    # faust buffers 4,096 messages per stream by default; with inputs of up to 16 MiB a lagging
    # worker's memory then followed its backlog (tests/integration/test_bad_input.py).
    stream_buffer_size: int = Field(
        default=256,
        ge=16,
        description="Messages a worker holds in memory per stream before it pauses fetching: "
        "bounds its memory under a backlog.",
    )
    producer_linger_ms: int = Field(
        default=5,
        ge=0,
        le=1000,
        description="How long a worker's producer waits to fill a batch before it sends: its "
        "outputs and table changelog records then go in one request, not one each (Kafka 4.0's "
        "own default, KIP-1030). Adds at most this much to each stage's latency.",
    )
    group_suffix: str = Field(
        default="",
        description="Appended to each faust app id (= consumer group), so tests can run isolated "
        "pipelines.",
    )
    data_dir: str = Field(default=".cache/faust", description="Where faust keeps its local state.")
    worker_name: str = Field(
        default="",
        description="Set by newswatch run for each worker it starts (entities, entities-2, …): the "
        "worker's faust data dir under data_dir and its Kafka client id, so that two workers of "
        "one service never share a data dir. Empty: the service word, faust's own client id.",
    )
    table_store: str = Field(
        default="memory://",
        description="Where faust keeps table state (dedup's index, the events): memory:// rebuilds "
        "it from the changelog at every start; rocksdb:// keeps it on disk under data_dir (memory "
        "bounded, faster restarts; Compose uses it).",
    )
    # Far above what any accepted input takes (docs/bad-input.md); a backstop, not a target.
    stage_budget_s: float = Field(
        default=30.0,
        gt=0,
        description="Per-message time budget of an isolated stage (clean, entities, alerts run in "
        "a child process): a message that takes longer is dead-lettered as timeout and the child "
        "replaced.",
    )
    stage_start_timeout_s: float = Field(
        default=300.0,
        gt=0,
        description="How long an isolated stage's child may take to build its resources (spaCy, "
        "lingua) at start.",
    )


class RunSettings(ServiceSettings):
    """Supervision by ``newswatch run`` (cli.supervise); the workers read the stop bound too."""

    run_max_restarts: int = Field(
        default=5,
        ge=0,
        description="A dead worker or broker is restarted at most this many times within the "
        "window; one more failure stops everything with exit 1.",
    )
    run_restart_window_s: float = Field(
        default=600.0, gt=0, description="The window NEWS_RUN_MAX_RESTARTS counts restarts in."
    )
    run_backoff_max_s: float = Field(
        default=60.0,
        gt=0,
        description="The wait before a restart is the session timeout, doubling with each try up "
        "to this cap (never below the session timeout, so the dead member has left the group).",
    )
    run_restart_delay_s: float | None = Field(
        default=None,
        ge=0,
        description="Tests only: a fixed wait instead of the backoff, even below the session "
        "timeout (it reproduces faust's rebalance-during-recovery race).",
    )
    run_stall_after_s: float = Field(
        default=60.0,
        gt=0,
        description="A worker whose group has lag and has committed nothing new for this long is "
        "restarted.",
    )
    run_stop_timeout_s: float = Field(
        default=20.0,
        gt=0,
        description="A worker must stop within this after SIGTERM: it then exits hard by itself "
        "(a watchdog in shared.worker.main.run_worker) and newswatch run SIGKILLs what is left 5 s later.",
    )
    # NoDecode: the variable is "entities=2,alerts=2", not the JSON pydantic-settings expects of a dict.
    run_workers: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=dict,
        description="Workers per service, e.g. entities=2,alerts=2 (a service not named runs 1); "
        "newswatch run --workers wins for the services it names (docs/scaling.md).",
    )

    @field_validator("run_workers", mode="before")
    @classmethod
    def _parse_workers(cls, value: object) -> object:
        return parse_worker_counts(value) if isinstance(value, str) else value

    @field_validator("run_workers")
    @classmethod
    def _check_workers(cls, value: dict[str, int]) -> dict[str, int]:
        for service, number in value.items():
            parse_worker_count(f"{service}={number}")  # the same errors as the text's
        return value

    run_log_repeat_s: float = Field(
        default=30.0,
        gt=0,
        description="Workers log the first connection error of a kind, then at most one a period "
        "with a count.",
    )
