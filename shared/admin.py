"""Topic administration and broker probes every Kafka client here shares: consumes nothing, produces nothing; creates topics.

The workers (``shared.worker.main.run_worker``), ``newswatch run``/``topics`` and the tests create topics
and probe brokers through these. Standard library and kafka-python only (aiokafka only to explain a
refused login: :func:`explain_refusal`). The helpers take kafka-python's security arguments
(``shared.security.kafka_python_kwargs``) for secured brokers.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from aiokafka.conn import create_conn
from aiokafka.errors import KafkaError as AioKafkaError
from aiokafka.errors import SaslAuthenticationFailed, UnsupportedSaslMechanismError
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import KafkaError, TopicAlreadyExistsError

if TYPE_CHECKING:
    from shared.topics import TopicSpec

log = logging.getLogger(__name__)

HOST = "127.0.0.1"


class BrokerError(RuntimeError):
    """The local broker could not be fetched, formatted, started or used."""


class KafkaAccessError(BrokerError):
    """A broker answered but refused this client: the SASL login or the TLS handshake failed."""


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
    if not configs:
        return
    described = admin.describe_configs(
        [
            ConfigResource(ConfigResourceType.TOPIC, name, configs=dict.fromkeys(wanted))
            for name, wanted in configs.items()
        ],
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
        except (
            KafkaError
        ) as exc:  # e.g. no AlterConfigs permission on a managed cluster: say what to set
            log.warning(
                "could not set %s: %s; set them on the cluster",
                {c.name: c.configs for c in changes},
                exc,
            )
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
