"""The local KRaft broker: its config and process handling (fast) and the real broker (integration)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError

from cli import broker
from cli.broker import LocalKafka, fetch_jars, free_port, render_server_properties
from shared.admin import BrokerError, broker_reachable, ensure_topics
from shared.schemas import RawArticle
from shared.settings import DEFAULT_BOOTSTRAP
from shared.topics import TopicSpec


def parse_properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def process_is_gone(pid: int) -> bool:
    """Gone or a zombie: a zombie runs nothing, it only waits for a parent to reap it."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in {"Z", "X"}


def wait_until_gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not process_is_gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# -- fast: no broker --------------------------------------------------------------------------


def test_rendered_server_properties_are_a_loopback_single_node_kraft_config(tmp_path: Path) -> None:
    text = render_server_properties(port=29092, controller_port=29093, log_dirs=tmp_path / "d")
    props = parse_properties(text)

    assert "$" not in text
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == f"{props['node.id']}@127.0.0.1:29093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:29092"
    assert props["log.dirs"] == str((tmp_path / "d").resolve())
    assert props["auto.create.topics.enable"] == "false"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "default.replication.factor",
    ):
        assert props[key] == "1", key
    assert int(props["log.cleaner.dedupe.buffer.size"]) <= 64 * 1024 * 1024


def test_default_port_matches_the_services_default_bootstrap() -> None:
    assert DEFAULT_BOOTSTRAP == f"127.0.0.1:{broker.DEFAULT_PORT}"
    assert LocalKafka().bootstrap == DEFAULT_BOOTSTRAP


def test_free_port_can_be_bound() -> None:
    import socket

    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_nothing_listening_is_not_reachable() -> None:
    started = time.monotonic()
    assert not broker_reachable(f"127.0.0.1:{free_port()}", timeout=3.0)
    assert time.monotonic() - started < 1.0


def test_fetch_jars_is_skipped_when_the_marker_matches_the_pom(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / ".fetched").write_text(hashlib.sha256(broker.POM.read_bytes()).hexdigest() + "\n")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no mvn: calling it would fail

    assert fetch_jars(lib) == lib.resolve()


def test_fetch_jars_failure_names_maven_central(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_mvn = bin_dir / "mvn"
    fake_mvn.write_text("#!/bin/sh\necho 'Could not transfer artifact' >&2\nexit 1\n")
    fake_mvn.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))

    with pytest.raises(BrokerError, match="Maven Central") as caught:
        fetch_jars(tmp_path / "lib")
    assert "Could not transfer artifact" in str(caught.value)
    assert not (tmp_path / "lib" / ".fetched").exists()


def test_spawned_process_dies_with_its_parent() -> None:
    # The same path the JVM is started by, with a cheap child: kill -9 the parent, the child goes.
    script = (
        "import sys, time; from cli.broker.jvm import spawn; "
        "p = spawn(['sleep', '60']); print(p.pid, flush=True); time.sleep(60)"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert not process_is_gone(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert wait_until_gone(child), f"sleep {child} outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


# -- integration: the real broker -------------------------------------------------------------


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    """One real broker for this module; a broker that cannot start errors every test using it."""
    data_dir = tmp_path_factory.mktemp("kafka") / "data"
    local = LocalKafka(port=free_port(), controller_port=free_port(), data_dir=data_dir, fresh=True)
    local.start()
    try:
        yield local
    finally:
        local.stop()


def unique(prefix: str) -> str:
    return f"test.{prefix}.{uuid.uuid4().hex[:8]}"


def partition_counts(bootstrap: str, names: list[str]) -> dict[str, int]:
    with KafkaAdminClient(bootstrap_servers=bootstrap) as admin:
        return {t["name"]: len(t["partitions"]) for t in admin.describe_topics(names)}


def produce(bootstrap: str, topic: str, value: bytes) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        producer.send(topic, value).get(timeout=10)
    finally:
        producer.close()


def consume(bootstrap: str, topic: str, count: int, timeout: float = 15.0) -> list[bytes]:
    """Read ``count`` records from the start of partition 0, or what arrived within ``timeout``."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        values: list[bytes] = []
        deadline = time.monotonic() + timeout
        while len(values) < count and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=500).values():
                values.extend(record.value for record in records)
        return values
    finally:
        consumer.close()


@pytest.mark.integration
def test_broker_is_reachable_at_its_bootstrap(kafka: LocalKafka) -> None:
    assert kafka.pid is not None
    assert broker_reachable(kafka.bootstrap)
    assert "Kafka Server started" in kafka.log_path.read_text()


@pytest.mark.integration
def test_ensure_topics_creates_missing_topics_once(kafka: LocalKafka) -> None:
    single = TopicSpec(unique("single"), RawArticle, partitions=1)
    default = TopicSpec(unique("default"), RawArticle)

    created = ensure_topics(kafka.bootstrap, [single, default], default_partitions=3)

    assert created == [single.name, default.name]
    assert partition_counts(kafka.bootstrap, created) == {single.name: 1, default.name: 3}
    assert ensure_topics(kafka.bootstrap, [single, default], default_partitions=3) == []


@pytest.mark.integration
def test_producing_to_an_unknown_topic_does_not_create_it(kafka: LocalKafka) -> None:
    name = unique("typo")
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap, max_block_ms=1000)
    try:
        with pytest.raises(KafkaError):
            producer.send(name, b"x").get(timeout=5)
    finally:
        producer.close()
    with KafkaAdminClient(bootstrap_servers=kafka.bootstrap) as admin:
        assert name not in admin.list_topics()


@pytest.mark.integration
def test_port_taken_by_a_running_broker_fails_clearly(kafka: LocalKafka, tmp_path: Path) -> None:
    second = LocalKafka(port=kafka.port, data_dir=tmp_path / "data")
    with pytest.raises(BrokerError, match=f"port {kafka.port}"):
        second.start()


@pytest.mark.integration
def test_jvm_that_cannot_start_fails_with_its_output(tmp_path: Path) -> None:
    doomed = LocalKafka(port=free_port(), data_dir=tmp_path / "data", heap="1k")
    with pytest.raises(BrokerError, match="exited with code") as caught:
        doomed.start(timeout=30)
    assert "heap" in str(caught.value).lower()
    assert doomed.pid is None


@pytest.mark.integration
def test_message_survives_a_restart_and_stop_leaves_no_process(kafka: LocalKafka) -> None:
    # Last in the module: it restarts the shared broker.
    [topic] = ensure_topics(kafka.bootstrap, [TopicSpec(unique("durable"), RawArticle)], 1)
    produce(kafka.bootstrap, topic, b"kept")
    assert consume(kafka.bootstrap, topic, 1) == [b"kept"]
    pid = kafka.pid
    assert pid is not None

    kafka.stop()

    assert wait_until_gone(pid, timeout=1.0)
    assert not broker_reachable(kafka.bootstrap, timeout=1.0)

    kafka.start()

    assert kafka.pid not in (None, pid)
    assert consume(kafka.bootstrap, topic, 1) == [b"kept"]


def test_cluster_ids_never_start_with_a_dash(monkeypatch):
    # 0xfb… encodes to "-" first in url-safe base64: the storage tool would misread "-t -…".
    import uuid

    from cli import broker

    ids = iter([uuid.UUID(bytes=b"\xfb" + b"\x00" * 15), uuid.UUID(bytes=b"\x01" * 16)])
    monkeypatch.setattr(uuid, "uuid4", lambda: next(ids))
    cluster_id = broker.new_cluster_id()
    assert not cluster_id.startswith("-") and len(cluster_id) == 22


def test_ensure_topics_raises_the_record_size_of_a_topic_created_before(kafka: LocalKafka) -> None:
    from kafka.admin import ConfigResource, ConfigResourceType

    name = unique("sized")
    assert ensure_topics(kafka.bootstrap, [TopicSpec(name, RawArticle)], 1) == [
        name
    ]  # Kafka's 1 MB default
    sized = TopicSpec(name, RawArticle, configs={"max.message.bytes": str(16 * 1024 * 1024)})
    assert ensure_topics(kafka.bootstrap, [sized], 1) == []

    admin = KafkaAdminClient(bootstrap_servers=kafka.bootstrap)
    try:
        described = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name, configs={"max.message.bytes": None})],
            config_filter="all",
        )
    finally:
        admin.close()
    (topics,) = described.values()
    assert topics[name]["max.message.bytes"]["value"] == str(16 * 1024 * 1024)
