"""The indexer's consumer in a real group rebalance: a member commits only for the partitions it still owns.

A broker takes an offset commit from any member of the current generation, for any partition of the
group, so the source itself must refuse to commit a partition the rebalance gave to another member:
otherwise the new owner would skip records the old one polled but never indexed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from confluent_kafka import Consumer, TopicPartition

from core.keys import RAW, SOURCE_ID
from ingest.batch import Batch
from ingest.kafka_config import KafkaConfig
from ingest.kafka_sink import KafkaSink
from ingest.kafka_source import KafkaSource

pytestmark = [pytest.mark.integration]  # kafka: added per fixture


def committed(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, int]:
    """The group's committed next-offset per partition (negative: none), read by a client outside the group."""
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False})
    try:
        found = reader.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=30)
    finally:
        reader.close()
    return {tp.partition: tp.offset for tp in found}


def test_after_a_rebalance_a_member_commits_only_the_partitions_it_kept(
    kafka_bootstrap: str, scaleout_topic: Callable[[int], str], kafka_group_id: str
) -> None:
    topic = scaleout_topic(2)
    events = [
        {RAW: b'{"n":%d}' % n, SOURCE_ID: f"2049:{n % 8}:feed", "log.file.path": f"/l/{n % 8}.log", "log.offset": n}
        for n in range(80)
    ]
    sink = KafkaSink(KafkaConfig(bootstrap_servers=[kafka_bootstrap], topic=topic), "shipper-1")
    try:
        sink.write(Batch(events=events, docs=[e[RAW] for e in events], positions={}))
    finally:
        sink.close()
    config = KafkaConfig(bootstrap_servers=[kafka_bootstrap], topic=topic, group=kafka_group_id)

    first = KafkaSource(config)
    second: KafkaSource | None = None
    try:
        ends: dict[tuple[str, str], int] = {}
        deadline = time.monotonic() + 60
        while sum(ends.values()) < len(events) and time.monotonic() < deadline:
            for chunk in first.poll():
                ends[chunk.position] = chunk.end_offset
        assert len(ends) == 2, f"the first member did not read both partitions: {ends}"

        second = KafkaSource(config)
        while time.monotonic() < deadline and not (len(first.owned) == 1 and len(second.owned) == 1):
            list(first.poll())
            list(second.poll())
        assert first.owned and second.owned and not first.owned & second.owned, (first.owned, second.owned)

        first.ack(ends)  # the batch that held both partitions' records, indexed after the rebalance
        assert first.commits_refused == 1
        ((_, kept),) = first.owned
        assert committed(kafka_bootstrap, kafka_group_id, topic, 2) == {
            kept: ends[(f"{topic}:{kept}", "")],
            1 - kept: -1001,  # nothing committed: the new owner starts from the beginning
        }
    finally:
        first.close()
        if second is not None:
            second.close()
