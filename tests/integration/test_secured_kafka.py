"""Secured Kafka on the real broker: topics, `newswatch submit` and the clean worker through a SASL_SSL listener only.

A broker of its own (LocalKafka with its opt-in SASL_SSL listener: SCRAM-SHA-256/512 users
created at format time, a certificate from a throwaway CA made here). Every client below is given
only the SASL_SSL address; the PLAINTEXT listener is there for the launcher's readiness probe.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient

from cli.broker import LocalKafka, SaslSslListener, free_port
from shared.admin import BrokerError, KafkaAccessError, broker_reachable, ensure_topics
from shared.schemas import CleanArticle, RawArticle
from shared.topics import CLEAN_ARTICLES, DEAD_LETTERS, RAW_ARTICLES, TOPICS, TopicSpec
from tests.certs import TlsFiles, make_test_certificates
from tests.integration.harness import NEWSWATCH, REPO

USER = "newswatch"
SEEDS = sorted((REPO / "seeds").glob("*.txt"))


@dataclass(frozen=True)
class SecuredKafka:
    """The running broker's SASL_SSL address, its CA, and the one SCRAM user's password."""

    bootstrap: str  # the SASL_SSL listener only
    plaintext_bootstrap: str
    tls: TlsFiles
    password: str

    def security(self, mechanism: str = "SCRAM-SHA-512", **changes: Any) -> dict[str, Any]:
        """kafka-python arguments for this listener, as shared.security maps them from settings."""
        from shared.security import kafka_python_kwargs
        from shared.settings import ServiceSettings

        settings = ServiceSettings(**{**self.settings(mechanism), **changes})
        return kafka_python_kwargs(settings)

    def settings(self, mechanism: str = "SCRAM-SHA-512") -> dict[str, Any]:
        return {
            "kafka_security_protocol": "SASL_SSL",
            "kafka_sasl_mechanism": mechanism,
            "kafka_sasl_username": USER,
            "kafka_sasl_password": self.password,
            "kafka_ssl_cafile": self.tls.ca_cert,
        }

    def env(self, mechanism: str = "SCRAM-SHA-512", **overrides: str) -> dict[str, str]:
        """A child process's environment: NEWS_KAFKA_* for this listener, no other NEWS_* value."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_")}
        env.update({f"NEWS_{k.upper()}": str(v) for k, v in self.settings(mechanism).items()})
        env.update(NEWS_KAFKA_BOOTSTRAP=self.bootstrap, PYTHONUNBUFFERED="1", **overrides)
        return env


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredKafka]:
    """A broker with a SASL_SSL listener next to PLAINTEXT; the project's topics created over SASL_SSL.

    Never skipped: if the broker cannot start, ``start`` raises with its log tail.
    """
    work = tmp_path_factory.mktemp("secured-kafka")
    tls = make_test_certificates(work / "tls")
    password = secrets.token_urlsafe(18)
    listener = SaslSslListener(port=free_port(), certificate_chain=tls.server_chain,
                               private_key=tls.server_key, users={USER: password})  # fmt: skip
    broker = LocalKafka(port=free_port(), controller_port=free_port(), data_dir=work / "data",
                        fresh=True, sasl_ssl=listener)  # fmt: skip
    broker.start()
    assert broker.sasl_ssl_bootstrap is not None
    kafka = SecuredKafka(broker.sasl_ssl_bootstrap, broker.bootstrap, tls, password)
    try:
        ensure_topics(kafka.bootstrap, TOPICS, 1, security=kafka.security())
        yield kafka
    finally:
        broker.stop()


def read_topic(
    kafka: SecuredKafka, topic: str, until: Callable[[list[Any]], bool], timeout: float
) -> list[Any]:
    """Read ``topic`` from the start over SASL_SSL until ``until(records)`` holds."""
    consumer = KafkaConsumer(bootstrap_servers=kafka.bootstrap, enable_auto_commit=False,
                             **kafka.security())  # fmt: skip
    try:
        partitions = consumer.partitions_for_topic(topic)
        assert partitions, f"topic {topic} does not exist"
        consumer.assign([TopicPartition(topic, p) for p in partitions])
        consumer.seek_to_beginning()
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while not until(records):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{topic}: not seen within {timeout:.0f} s ({len(records)} records)"
                )
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def submit(kafka: SecuredKafka, *paths: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`newswatch submit` in a child process, configured by NEWS_KAFKA_* variables only."""
    return subprocess.run([*NEWSWATCH, "submit", *map(str, paths)], cwd=REPO, env=kafka.env(**env),
                          capture_output=True, text=True, check=False, timeout=180)  # fmt: skip


# -- (1) topics -------------------------------------------------------------------------------


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-256", "SCRAM-SHA-512"])
def test_ensure_topics_creates_topics_through_the_sasl_ssl_listener(
    secured: SecuredKafka, mechanism: str
) -> None:
    name = f"news.secured-{mechanism.lower()}-{uuid.uuid4().hex[:6]}.v1"
    security = secured.security(mechanism)

    created = ensure_topics(secured.bootstrap, [TopicSpec(name, RawArticle, partitions=2)], 1,
                            security=security)  # fmt: skip

    assert created == [name]
    assert broker_reachable(secured.bootstrap, security=security)
    admin = KafkaAdminClient(bootstrap_servers=secured.bootstrap, **security)
    try:
        (described,) = admin.describe_topics([name])
        assert len(described["partitions"]) == 2
    finally:
        admin.close()


# -- (2) newswatch submit ---------------------------------------------------------------------


def test_submit_sends_the_seeds_through_the_sasl_ssl_listener(secured: SecuredKafka) -> None:
    out = submit(secured, "seeds/")

    assert out.returncode == 0, out.stderr
    assert f"submitted {len(SEEDS)} message(s) to {RAW_ARTICLES.name}" in out.stdout
    texts = {s.read_bytes() for s in SEEDS}
    records = read_topic(secured, RAW_ARTICLES.name,
                         lambda rs: texts <= {r.value for r in rs}, timeout=60)  # fmt: skip
    assert texts <= {r.value for r in records}


# -- (3) the faust worker ---------------------------------------------------------------------


def test_the_clean_worker_consumes_and_publishes_through_the_sasl_ssl_listener(
    secured: SecuredKafka, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    title = f"Marines arrive in Norway ({run})"
    article = tmp_path / f"article-{run}.json"
    article.write_text(json.dumps({
        "id": f"secured-{run}",
        "title": title,
        "text": "About 300 U.S. Marines arrived in Norway on Tuesday for a six-month deployment, the "
                "Norwegian military said.\n\nThe troops will train in the Arctic, officials said.",
    }))  # fmt: skip
    sent = submit(secured, article)
    assert sent.returncode == 0, sent.stderr

    log = tmp_path / "clean.log"
    # SCRAM-SHA-256 here (aiokafka), SCRAM-SHA-512 for the CLI: both mechanisms carry real traffic.
    env = secured.env("SCRAM-SHA-256", NEWS_GROUP_SUFFIX=f"-sec{run}",
                      NEWS_METRICS_PORT=str(free_port()), NEWS_DATA_DIR=str(tmp_path / "faust"),
                      NEWS_TOPIC_PARTITIONS="1")  # fmt: skip
    with open(log, "wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "services.clean.app", "worker", "--without-web", "-l", "info"],
            cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:

        def published(records: list[Any]) -> bool:
            if worker.poll() is not None:
                raise AssertionError(
                    f"the clean worker exited with {worker.returncode}:\n{tail(log)}"
                )
            return any(CleanArticle.model_validate_json(r.value).title == title for r in records)

        try:
            records = read_topic(secured, CLEAN_ARTICLES.name, published, timeout=240)
        except AssertionError as error:
            raise AssertionError(f"{error}\n--- clean worker log\n{tail(log)}") from None
        clean = [CleanArticle.model_validate_json(r.value) for r in records]
        (ours,) = [a for a in clean if a.title == title]
        assert "Marines arrived in Norway" in ours.text
        assert ours.language == "en"
    finally:
        stop(worker)
    assert worker.returncode == 0, tail(log)
    # Nothing of ours was dead-lettered: the article went through, not around.
    dlq = read_topic(secured, DEAD_LETTERS["clean"].name, lambda rs: True, timeout=5)
    assert not [r for r in dlq if run.encode() in r.value]


def stop(proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """SIGTERM (faust commits and leaves its group), SIGKILL to its process group if it hangs."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# -- (4) refusals -----------------------------------------------------------------------------


def test_a_wrong_password_is_refused_with_an_authentication_error(secured: SecuredKafka) -> None:
    wrong = secured.security(kafka_sasl_password="not-" + secured.password)

    with pytest.raises(
        KafkaAccessError, match="refused the SASL login.*invalid credentials"
    ) as caught:
        ensure_topics(secured.bootstrap, [TopicSpec("news.never.v1", RawArticle)], 1, timeout=5,
                      security=wrong)  # fmt: skip
    assert secured.password not in str(caught.value)
    with pytest.raises(KafkaAccessError, match="invalid credentials"):
        broker_reachable(secured.bootstrap, timeout=5, security=wrong)


def test_the_cli_and_the_worker_stop_on_a_wrong_password_and_say_why(
    secured: SecuredKafka, tmp_path: Path
) -> None:
    wrong = {"NEWS_KAFKA_SASL_PASSWORD": "not-" + secured.password}
    # Both wait out kafka-python's bootstrap timeout (30 s), so they run side by side.
    started = time.monotonic()
    worker = subprocess.Popen(
        [sys.executable, "-m", "services.clean.app", "worker", "--without-web", "-l", "info"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=secured.env(**wrong, NEWS_GROUP_SUFFIX=f"-bad{uuid.uuid4().hex[:6]}",
                        NEWS_METRICS_PORT=str(free_port()), NEWS_DATA_DIR=str(tmp_path / "faust")),
    )  # fmt: skip
    try:
        cli = submit(secured, SEEDS[0], **wrong)
        worker_out, _ = worker.communicate(timeout=180)
    finally:
        if worker.poll() is None:
            worker.kill()

    assert cli.returncode != 0
    last = cli.stderr.strip().splitlines()[-1]  # one line that says why, not a traceback
    assert last.startswith(f"newswatch: Kafka at {secured.bootstrap} refused the SASL login"), (
        cli.stderr
    )
    assert "invalid credentials" in last
    assert worker.returncode != 0
    assert "KafkaAccessError" in worker_out and "invalid credentials" in worker_out
    assert secured.password not in cli.stderr + worker_out
    assert time.monotonic() - started < 150


def test_a_client_without_tls_cannot_use_the_sasl_ssl_port(secured: SecuredKafka) -> None:
    # The right SASL login, but in the clear: the TLS listener never reads it as Kafka requests.
    no_tls = secured.security(kafka_security_protocol="SASL_PLAINTEXT", kafka_ssl_cafile=None)
    assert no_tls["security_protocol"] == "SASL_PLAINTEXT" and "ssl_context" not in no_tls

    with pytest.raises(BrokerError, match=f"no Kafka broker at {secured.bootstrap}"):
        ensure_topics(secured.bootstrap, [TopicSpec("news.never.v1", RawArticle)], 1, timeout=5,
                      security=no_tls)  # fmt: skip
    assert not broker_reachable(secured.bootstrap, timeout=3)  # PLAINTEXT, no login at all


def test_a_client_that_does_not_trust_the_ca_is_refused_in_the_tls_handshake(
    secured: SecuredKafka,
) -> None:
    system_cas = secured.security(kafka_ssl_cafile=None)  # the system's CAs only

    with pytest.raises(
        KafkaAccessError, match="TLS handshake .* failed: .*CERTIFICATE_VERIFY_FAILED"
    ):
        broker_reachable(secured.bootstrap, timeout=5, security=system_cas)
