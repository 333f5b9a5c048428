"""The indexer's source hands runs of one file's plain lines as ``ShippedLines``, everything else as events.

Whatever the form, the chunks of a partition come in offset order, each ending right after its last
record, and their events are exactly what ``event_from_record`` rebuilds from each record.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from confluent_kafka import Producer

from core.chunk import Chunk
from ingest.kafka_config import KafkaConfig
from ingest.kafka_source import KafkaSource
from ingest.kafka_wire import ShippedLines, event_from_record

pytestmark = [pytest.mark.integration]  # kafka: added per fixture

Record = tuple[bytes | None, list[tuple[str, bytes]] | None]


def shipped(
    source_id: bytes, offset: int, line: bytes, *, host: bytes = b"shipper-1", path: bytes = b"/l/a.log"
) -> Record:
    return line, [("source_id", source_id), ("offset", b"%d" % offset), ("host", host), ("path", path)]


def file_lines(source_id: bytes, lines: list[bytes], first_offset: int = 0, **headers: Any) -> list[Record]:
    records, offset = [], first_offset
    for line in lines:
        records.append(shipped(source_id, offset, line, **headers))
        offset += len(line) + 1
    return records


RECORDS: list[Record] = [
    *file_lines(b"2049:1:a", [b'{"n":1}', b'{"n":2}', b"plain text"]),  # a run
    (
        b'{"n":"cut',
        [
            ("source_id", b"2049:1:a"),
            ("offset", b"27"),
            ("host", b"shipper-1"),
            ("path", b"/l/a.log"),
            ("tags", b"_truncated"),
        ],
    ),  # fmt: skip
    *file_lines(b"2049:1:a", [b'{"n":4}', b'{"n":5}'], first_offset=40),  # a run again after the tagged line
    *file_lines(b"2049:2:b", [b'{"m":1}', b""], path=b"/l/b.log"),  # another file: a new run
    *file_lines(b"2049:2:b", [b'{"m":3}'], first_offset=100, path=b"/l/b.log"),  # a gap: a new run
    (b'{"foreign":true}', None),  # another producer's record
    *file_lines(b"2049:3:c", [b'{"k":1}'], path=b"/l/caf\xe9.log"),  # a path that is not UTF-8: an event
    *file_lines(b"2049:1:a", [b'{"n":6}'], first_offset=48, host=b"shipper-2"),  # another shipper
]


def test_runs_of_plain_lines_and_other_records_come_in_order_as_their_events(
    kafka_bootstrap: str, scaleout_topic: Callable[[int], str]
) -> None:
    topic = scaleout_topic(1)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for value, headers in RECORDS:
        producer.produce(topic, value=value, headers=headers, partition=0)
    assert producer.flush(30) == 0
    source = KafkaSource(KafkaConfig(bootstrap_servers=[kafka_bootstrap], topic=topic, group=f"g-{uuid.uuid4().hex}"))
    chunks: list[Chunk] = []
    try:
        deadline = time.monotonic() + 60
        while (not chunks or chunks[-1].end_offset < len(RECORDS)) and time.monotonic() < deadline:
            chunks.extend(source.poll())
    finally:
        source.close()
    expected = [event_from_record(value, headers, topic, 0, at) for at, (value, headers) in enumerate(RECORDS)]
    got = [event for chunk in chunks for event in chunk.events]
    assert got == expected
    assert [list(event) for event in got] == [list(event) for event in expected], "same key order, same documents"
    ends = [chunk.end_offset for chunk in chunks]
    assert ends == sorted(ends) and ends[-1] == len(RECORDS)
    assert sum(chunk.count for chunk in chunks) == len(RECORDS)
    as_events, runs, at = [], [], 0
    for chunk in chunks:
        if isinstance(chunk.lines, ShippedLines):
            runs.append((at, chunk.count, chunk.lines.host))
        else:
            assert chunk.lines is None
            as_events += range(at, at + chunk.count)
        at += chunk.count
    assert as_events == [3, 9, 10], "only the tagged, the foreign and the non-UTF-8 records are events"
    # Runs break at the tagged line, at another file, at a gap in the offsets, at another shipper
    # (and wherever a poll ended).
    starts = [start for start, _, _ in runs]
    assert {0, 4, 6, 8, 11} <= set(starts)
    assert runs[-1][2] == "shipper-2" and all(host == "shipper-1" for _, _, host in runs[:-1])


def test_a_poll_hands_what_was_fetched_without_waiting_for_a_full_batch(
    kafka_bootstrap: str, scaleout_topic: Callable[[int], str]
) -> None:
    """Ten records and a poll that may take 5,000 and wait ten minutes: the poll hands the ten once
    they are fetched, it does not wait for the other 4,990 (librdkafka's batch consume would)."""
    topic = scaleout_topic(1)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    records = file_lines(b"2049:9:z", [b'{"n":%d}' % n for n in range(10)])
    for value, headers in records:
        producer.produce(topic, value=value, headers=headers, partition=0)
    assert producer.flush(30) == 0
    config = KafkaConfig(
        bootstrap_servers=[kafka_bootstrap],
        topic=topic,
        group=f"g-{uuid.uuid4().hex}",
        max_poll_records=5000,
        poll_timeout_ms=600_000,
    )
    source = KafkaSource(config)
    got: list[Chunk] = []

    def poll_until_ten() -> None:
        for _ in range(200):
            if sum(chunk.count for chunk in got) >= 10:
                return
            got.extend(source.poll())

    polls = threading.Thread(target=poll_until_ten, daemon=True)
    polls.start()
    polls.join(120)
    assert not polls.is_alive(), "a poll waited for records that were never coming"
    source.close()
    assert [event for chunk in got for event in chunk.events] == [
        event_from_record(value, headers, topic, 0, at) for at, (value, headers) in enumerate(records)
    ]
