"""The lag collector against the real broker: lag = end offset - committed offset, per partition."""

from __future__ import annotations

import uuid

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.structs import OffsetAndMetadata

from shared.lag import KafkaOffsets, LagCollector


def test_lag_is_what_the_group_has_not_committed_per_partition(kafka):
    topic, group = f"lag-{uuid.uuid4().hex[:8]}", f"lag-group-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka)
    admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    admin.close()
    produced = {0: 6, 1: 4, 2: 2}  # N per partition
    consumed = {0: 2, 1: 4}  # k per partition; partition 2 never committed
    producer = KafkaProducer(bootstrap_servers=kafka, acks="all")
    for partition, n in produced.items():
        for i in range(n):
            producer.send(topic, value=f"{partition}-{i}".encode(), partition=partition).get(30)
    producer.close(10)
    consumer = KafkaConsumer(
        bootstrap_servers=kafka, group_id=group, enable_auto_commit=False, max_poll_records=1
    )
    for partition, k in consumed.items():
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        read = 0
        while read < k:
            read += sum(len(r) for r in consumer.poll(timeout_ms=1000).values())
        consumer.commit({tp: OffsetAndMetadata(k, "", -1)})
    consumer.close()

    collector = LagCollector(
        "clean", KafkaOffsets(kafka, group, [topic], timeout_s=5), timeout_s=10
    )
    found = {
        (s.name, s.labels["partition"]): s.value
        for family in collector.collect()
        for s in family.samples
        if s.labels["service"] == "clean" and s.labels["topic"] == topic
    }
    collector.close()
    assert found == {
        ("news_consumer_lag", "0"): 4,
        ("news_consumer_lag", "1"): 0,
        ("news_consumer_lag", "2"): 2,
        ("news_consumer_committed_offset", "0"): 2,
        ("news_consumer_committed_offset", "1"): 4,
        ("news_consumer_committed_offset", "2"): 0,
    }


def test_an_unreachable_broker_exports_nothing_within_the_timeout():
    read = KafkaOffsets("127.0.0.1:1", "nobody", ["t"], timeout_s=1)
    collector = LagCollector("clean", read, timeout_s=1.5)
    assert list(collector.collect()) == []
    collector.close()
