"""KafkaSink and KafkaSource against a real broker: what goes on the wire and what comes back."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from kafka import KafkaConsumer
from kafka.partitioner.default import murmur2

from core.keys import RAW, SOURCE_ID
from ingest.batch import Batch
from ingest.kafka_config import KafkaConfig
from ingest.kafka_sink import KafkaSink
from ingest.kafka_source import KafkaSource
from ingest.kafka_wire import SHIPPER_HOST

pytestmark = [pytest.mark.integration]  # kafka: added per fixture

SOURCES = [f"2049:{ino}:abcdef0123456789" for ino in range(100, 108)]


def initial_events(lines_per_source: int) -> list[dict[str, Any]]:
    events = []
    for n in range(lines_per_source):
        for source_id in SOURCES:
            raw = b"\xff\xfe raw \x00 bytes %d" % n if n % 5 == 0 else b'{"n":%d,"src":"%s"}' % (n, source_id.encode())
            event = {RAW: raw, SOURCE_ID: source_id, "log.file.path": f"/logs/{source_id}.log", "log.offset": n * 100}
            if n % 7 == 0:
                event["tags"] = ["_truncated"]
            events.append(event)
    return events


def batch_of(events: list[dict[str, Any]]) -> Batch:
    return Batch(events=events, docs=[e[RAW] for e in events], positions={})


def config(bootstrap: str, topic: str, **extra: Any) -> KafkaConfig:
    return KafkaConfig(bootstrap_servers=[bootstrap], topic=topic, **extra)


def test_sink_sends_raw_lines_keyed_by_source_in_order_to_the_java_partition(
    kafka_bootstrap: str, scaleout_topic: Callable[[int], str]
) -> None:
    topic = scaleout_topic(3)
    events = initial_events(40)
    sink = KafkaSink(config(kafka_bootstrap, topic), "shipper-1")
    try:
        sink.write(batch_of(events))
    finally:
        sink.close()

    consumer = KafkaConsumer(
        topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=10_000
    )
    try:
        records = [r for _, r in zip(range(len(events)), consumer, strict=False)]
    finally:
        consumer.close()
    assert len(records) == len(events)
    by_source: dict[str, list[Any]] = {}
    for record in records:
        assert record.partition == (murmur2(record.key) & 0x7FFFFFFF) % 3  # what the Java client picks
        by_source.setdefault(record.key.decode(), []).append(record)
    for source_id, received in by_source.items():
        assert len({r.partition for r in received}) == 1, "one file's lines span partitions"
        sent = [e for e in events if e[SOURCE_ID] == source_id]
        assert [r.value for r in received] == [e[RAW] for e in sent]
        for record, event in zip(received, sent, strict=True):
            headers = dict(record.headers)
            assert headers["source_id"] == source_id.encode()
            assert headers["offset"] == str(event["log.offset"]).encode()
            assert headers["path"] == event["log.file.path"].encode()
            assert headers["host"] == b"shipper-1"
            assert headers.get("tags") == (b"_truncated" if "tags" in event else None)


def test_sink_cuts_lines_above_the_message_limit_and_tags_them(
    kafka_bootstrap: str, scaleout_topic: Callable[[int], str]
) -> None:
    topic = scaleout_topic(1)
    long_line = b'{"msg":"' + b"y" * 5000 + b'"}'
    event = {RAW: long_line, SOURCE_ID: SOURCES[0], "log.file.path": "/logs/a.log", "log.offset": 0}
    sink = KafkaSink(config(kafka_bootstrap, topic, max_message_bytes=2048), "shipper-1")
    try:
        sink.write(batch_of([event]))
    finally:
        sink.close()
    source = KafkaSource(config(kafka_bootstrap, topic, group=f"g-{uuid.uuid4().hex[:8]}"))
    try:
        got = poll_events(source, 1)
    finally:
        source.close()
    assert got[0][RAW] == long_line[:2048]
    assert got[0]["tags"] == ["_truncated"]


def poll_events(source: KafkaSource, want: int, timeout: float = 30) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(events) < want and time.monotonic() < deadline:
        for chunk in source.poll():
            events.extend(chunk.events)
    return events


def test_source_commits_only_what_was_acked_and_a_new_member_resumes_there(
    kafka_bootstrap: str, scaleout_topic: Callable[[int], str], kafka_group_id: str
) -> None:
    topic = scaleout_topic(1)
    events = initial_events(10)  # 80 records, one partition
    sink = KafkaSink(config(kafka_bootstrap, topic), "shipper-1")
    try:
        sink.write(batch_of(events))
    finally:
        sink.close()
    cfg = config(kafka_bootstrap, topic, group=kafka_group_id, max_poll_records=30)

    first = KafkaSource(cfg)
    try:
        chunks = []
        deadline = time.monotonic() + 30
        while not chunks and time.monotonic() < deadline:
            chunks = list(first.poll())
        assert chunks, "no records polled"
        chunk = chunks[0]
        assert chunk.position == (f"{topic}:0", "")
        assert chunk.end_offset == len(chunk.events) <= 30
        assert {k: v for k, v in chunk.events[0].items() if k != SHIPPER_HOST} == events[0]
        assert chunk.events[0][SHIPPER_HOST] == "shipper-1"
        first.ack({chunk.position: 20})  # the sink accepted the first 20 records only
    finally:
        first.close()

    second = KafkaSource(cfg)
    try:
        resumed = poll_events(second, len(events) - 20)
    finally:
        second.close()
    assert [e["log.offset"] for e in resumed] == [e["log.offset"] for e in events[20:]]
    assert [e[SOURCE_ID] for e in resumed] == [e[SOURCE_ID] for e in events[20:]]


def test_source_reports_idle_only_after_joining_and_a_quiet_spell(
    kafka_bootstrap: str, scaleout_topic: Callable[[int], str], kafka_group_id: str
) -> None:
    topic = scaleout_topic(2)
    source = KafkaSource(config(kafka_bootstrap, topic, group=kafka_group_id), exit_when_idle=1.0)
    try:
        assert not source.done()
        deadline = time.monotonic() + 30
        while not source.joined and time.monotonic() < deadline:
            list(source.poll())
        assert source.joined and not source.done()
        while not source.done() and time.monotonic() < deadline:
            list(source.poll())
        assert source.done()
    finally:
        source.close()


def test_ack_for_a_partition_moved_away_commits_nothing_and_the_new_owner_redelivers(
    kafka_bootstrap: str, scaleout_topic: Callable[[int], str], kafka_group_id: str
) -> None:
    topic = scaleout_topic(1)
    events = initial_events(5)
    sink = KafkaSink(config(kafka_bootstrap, topic), "shipper-1")
    try:
        sink.write(batch_of(events))
    finally:
        sink.close()
    cfg = config(kafka_bootstrap, topic, group=kafka_group_id)

    first = KafkaSource(cfg)
    try:
        polled = poll_events(first, len(events))
        assert len(polled) == len(events)
        first.consumer.unsubscribe()  # what a rebalance does to a member that loses its partition
        deadline = time.monotonic() + 30
        while (topic, 0) in first.owned and time.monotonic() < deadline:
            list(first.poll())  # the member learns of the revocation in its next poll, as in a rebalance
        assert (topic, 0) not in first.owned
        first.ack({(f"{topic}:0", ""): len(events)})
        assert first.commits_refused == 1
    finally:
        first.close()

    second = KafkaSource(cfg)
    try:
        redelivered = poll_events(second, len(events))
    finally:
        second.close()
    assert [e["log.offset"] for e in redelivered] == [e["log.offset"] for e in events]
