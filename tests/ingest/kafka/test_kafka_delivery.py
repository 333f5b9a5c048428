"""The shipper's Kafka sink against the real broker: what ``write`` promises when it returns.

``write`` returning means every record of the batch was acknowledged by the broker (the pipeline then
advances the registry); these tests read the topic back with an independent consumer and check that
each line is there once per write, in offset order per file, with its headers, compressed or not.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.errors import KafkaError

from core.errors import SinkUnavailable
from core.keys import RAW, SOURCE_ID
from ingest.batch import Batch
from ingest.kafka_config import KafkaConfig
from ingest.kafka_sink import KafkaSink, ensure_topic
from ingest.kafka_source import KafkaSource

pytestmark = [pytest.mark.integration]  # kafka: added per fixture

FILES = [(f"2049:{ino}:0123456789abcdef", f"/var/log/app-{ino}.log") for ino in range(300, 304)]


def file_batch(lines_per_file: int, line_bytes: int = 60) -> Batch:
    """Initial events as the file source makes them, the files' lines interleaved as one poll reads them."""
    events: list[dict[str, Any]] = []
    offsets = dict.fromkeys(FILES, 0)
    for n in range(lines_per_file):
        for source_id, path in FILES:
            raw = (b'{"n":%d,"file":"%s","pad":"' % (n, path.encode())).ljust(line_bytes, b"x") + b'"}'
            events.append(
                {RAW: raw, SOURCE_ID: source_id, "log.file.path": path, "log.offset": offsets[source_id, path]}
            )
            offsets[source_id, path] += len(raw) + 1
    return Batch(events=events, docs=[e[RAW] for e in events], positions={})


def read_topic(bootstrap: str, topic: str, want: int, timeout_ms: int = 30_000) -> list[Any]:
    """Every record of the topic (at most ``want``), read by a plain consumer independent of logferry."""
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=timeout_ms
    )
    try:
        return [record for _, record in zip(range(want), consumer, strict=False)]
    finally:
        consumer.close()


def assert_lines_in_file_order(records: list[Any], batch: Batch, host: bytes) -> None:
    """Per file: the same lines, in offset order, each with the headers the indexer rebuilds it from."""
    by_file: dict[bytes, list[Any]] = {}
    for record in records:
        by_file.setdefault(record.key, []).append(record)
    assert sorted(by_file) == sorted(source_id.encode() for source_id, _ in FILES)
    for source_id, path in FILES:
        received = by_file[source_id.encode()]
        sent = [e for e in batch.events if e[SOURCE_ID] == source_id]
        assert [r.value for r in received] == [e[RAW] for e in sent]
        for record, event in zip(received, sent, strict=True):
            assert dict(record.headers) == {
                "source_id": source_id.encode(),
                "offset": str(event["log.offset"]).encode(),
                "host": host,
                "path": path.encode(),
            }


@pytest.mark.parametrize("codec", ["none", "lz4", "zstd"])
def test_lines_arrive_whole_with_each_codec_and_the_indexer_source_reads_them(
    codec: str, kafka_bootstrap: str, scaleout_topic: Callable[[int], str], kafka_group_id: str
) -> None:
    topic = scaleout_topic(2)
    batch = file_batch(500)
    sink = KafkaSink(KafkaConfig(bootstrap_servers=[kafka_bootstrap], topic=topic, compression_type=codec), "s-1")
    try:
        sink.write(batch)
    finally:
        sink.close()

    records = read_topic(kafka_bootstrap, topic, len(batch) + 1, timeout_ms=10_000)
    assert len(records) == len(batch)
    assert_lines_in_file_order(records, batch, b"s-1")

    source = KafkaSource(KafkaConfig(bootstrap_servers=[kafka_bootstrap], topic=topic, group=kafka_group_id))
    events: list[dict[str, Any]] = []
    try:
        for _ in range(300):
            events.extend(event for chunk in source.poll() for event in chunk.events)
            if len(events) >= len(batch):
                break
    finally:
        source.close()
    assert sorted((e[SOURCE_ID], e["log.offset"], e[RAW]) for e in events) == sorted(
        (e[SOURCE_ID], e["log.offset"], e[RAW]) for e in batch.events
    )


def test_a_batch_larger_than_the_producer_queue_is_acknowledged_whole_and_in_order(
    kafka_bootstrap: str, scaleout_topic: Callable[[int], str]
) -> None:
    """More records than the client library queues at once (100,000 by default): ``write`` waits for room."""
    topic = scaleout_topic(3)
    batch = file_batch(30_000, line_bytes=20)
    sink = KafkaSink(KafkaConfig(bootstrap_servers=[kafka_bootstrap], topic=topic), "s-2")
    try:
        sink.write(batch)
    finally:
        sink.close()
    records = read_topic(kafka_bootstrap, topic, len(batch) + 1, timeout_ms=10_000)
    assert len(records) == len(batch)
    assert_lines_in_file_order(records, batch, b"s-2")


def test_each_write_returns_with_its_records_in_the_topic_after_the_previous_ones(
    kafka_bootstrap: str, scaleout_topic: Callable[[int], str]
) -> None:
    """The registry advances after each ``write``: by then the topic holds that batch, behind the earlier ones."""
    topic = scaleout_topic(1)
    batches = [file_batch(50) for _ in range(3)]
    sink = KafkaSink(KafkaConfig(bootstrap_servers=[kafka_bootstrap], topic=topic), "s-3")
    seen = 0
    try:
        for batch in batches:
            sink.write(batch)
            seen += len(batch)
            records = read_topic(kafka_bootstrap, topic, seen, timeout_ms=10_000)
            assert len(records) == seen, "write returned before the broker held the batch"
            assert [r.value for r in records[-len(batch) :]] == batch.docs
    finally:
        sink.close()


def test_ensure_topic_creates_the_configured_partition_count_once(
    kafka_bootstrap: str, kafka_admin: KafkaAdminClient
) -> None:
    topic = f"t-ensure-{uuid.uuid4().hex[:10]}"
    config = KafkaConfig(bootstrap_servers=[kafka_bootstrap], topic=topic, partitions=3)
    try:
        ensure_topic(config)
        ensure_topic(config)  # exists: nothing to do
        (described,) = kafka_admin.describe_topics([topic])
        assert len(described["partitions"]) == 3
        assert all(p["leader_id"] >= 0 for p in described["partitions"])
    finally:
        with contextlib.suppress(KafkaError):
            kafka_admin.delete_topics([topic])


def test_ensure_topic_without_a_broker_is_an_error_the_pipeline_retries() -> None:
    config = KafkaConfig(bootstrap_servers=["127.0.0.1:9"], topic="t-nowhere", request_timeout_ms=1000)
    with pytest.raises(SinkUnavailable) as raised:
        ensure_topic(config)
    assert raised.value.retriable


def test_a_record_the_broker_refuses_fails_the_whole_write(
    kafka_bootstrap: str, scaleout_topic: Callable[[int], str]
) -> None:
    """Over the broker's message size (about 1 MB by default, uncompressed here): the delivery report fails
    the batch, so the pipeline sends it again and the registry does not move past it."""
    topic = scaleout_topic(1)
    batch = file_batch(2)
    batch.events[3][RAW] = batch.docs[3] = b"z" * 1_500_000
    sink = KafkaSink(
        KafkaConfig(
            bootstrap_servers=[kafka_bootstrap], topic=topic, max_message_bytes=2_000_000, compression_type="none"
        ),
        "s-4",
    )
    try:
        with pytest.raises(SinkUnavailable, match="did not acknowledge 1 of 8 records") as raised:
            sink.write(batch)
        assert raised.value.retriable
    finally:
        sink.close()
