"""The indexer's source: a Kafka consumer group over the shippers' topic.

Each poll yields, per partition and in offset order, the records as the shipper's file source handed
them (``ingest/kafka_wire.py``): consecutive plain lines of one file as one ``ShippedLines`` block,
which the compiled chain takes whole without an event per line, and any other record (tagged, foreign,
not UTF-8) as its initial event. A chunk's position is ``("<topic>:<partition>", "")`` and its end
offset the next offset to read. ``ack`` commits exactly the offsets of the batch the sink accepted, never more, so
a crash re-delivers what was not indexed yet. A commit refused because a rebalance moved the partition
away is logged and ignored: the new owner resumes from the last commit, and the deterministic ids turn
the re-delivered records into overwrites, not duplicates.

The consumer is librdkafka's (``confluent_kafka``), like the shipper's producer: it fetches and
decompresses in its own threads and hands a poll's records over as one list, about 8 µs of CPU per
record where kafka-python's pure-Python fetcher cost 40-45. Offsets are neither committed nor stored
automatically: only ``ack`` commits.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from core.chunk import Chunk, Position
from core.errors import SinkUnavailable
from core.outcomes import EventCounts
from ingest.kafka_config import KafkaConfig
from ingest.kafka_sink import ensure_topic
from ingest.kafka_wire import (
    H_HOST,
    H_OFFSET,
    H_PATH,
    H_SOURCE_ID,
    PlainLine,
    ShippedLines,
    event_from_record,
    plain_line,
)

log = logging.getLogger("logferry.kafka")

REBALANCE_ERRORS = frozenset(
    {
        KafkaError.REBALANCE_IN_PROGRESS,
        KafkaError.ILLEGAL_GENERATION,
        KafkaError.UNKNOWN_MEMBER_ID,
        KafkaError._ASSIGNMENT_LOST,
        KafkaError._STATE,
    }
)
"""Commit errors that mean "this member no longer owns the partition": the new owner re-delivers."""


def consumer_options(config: KafkaConfig) -> dict[str, Any]:
    """librdkafka's settings for one indexer: a group member that commits only what ``ack`` says."""
    return {
        "bootstrap.servers": ",".join(config.bootstrap_servers),
        "client.id": config.client_id,
        "group.id": config.group,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest",
        "max.poll.interval.ms": config.max_poll_interval_ms,
        "session.timeout.ms": config.session_timeout_ms,
        "heartbeat.interval.ms": max(1000, config.session_timeout_ms // 3),
        "socket.timeout.ms": config.request_timeout_ms,
        "topic.metadata.refresh.interval.ms": config.metadata_max_age_ms,
        "logger": log,
    }


class _Run:
    """Consecutive records of one file whose offsets follow each other: one ``ShippedLines``."""

    __slots__ = (
        "source_header",
        "host_header",
        "path_header",
        "lines",
        "next_offset",
        "source_id",
        "host",
        "path",
        "first_offset",
    )

    def __init__(self, plain: PlainLine, value: bytes, names: tuple[str, str, str]) -> None:
        self.source_header = (H_SOURCE_ID, plain[0])
        self.host_header = (H_HOST, plain[1])
        self.path_header = (H_PATH, plain[2])
        """The headers a record of the run repeats, as librdkafka hands them (name, bytes)."""
        self.source_id, self.host, self.path = names
        self.first_offset = plain[3]
        self.lines = [value]
        self.next_offset = plain[3] + len(value) + 1

    @classmethod
    def start(cls, plain: PlainLine, value: bytes) -> _Run | None:
        """A run from this record, or None when a header is not UTF-8 (its event keeps the bytes)."""
        try:
            names = (plain[0].decode(), plain[1].decode(), plain[2].decode())
        except UnicodeDecodeError:
            return None
        return cls(plain, value, names)

    def chunk(self, position: Position, end_offset: int) -> Chunk:
        lines = ShippedLines(self.lines, self.source_id, self.path, self.first_offset, self.host)
        return Chunk.of_lines(position, lines, end_offset, sum(map(len, self.lines)))


def position_of(topic: str, partition: int) -> Position:
    return (f"{topic}:{partition}", "")


def partition_of(position: Position) -> tuple[str, int]:
    topic, _, partition = position[0].rpartition(":")
    return topic, int(partition)


def _names(partitions: list[TopicPartition]) -> str:
    return ",".join(f"{topic}:{partition}" for topic, partition in sorted((p.topic, p.partition) for p in partitions))


class KafkaSource:
    """One member of the indexers' consumer group; offsets are committed only through ``ack``."""

    def __init__(self, config: KafkaConfig, *, exit_when_idle: float | None = None) -> None:
        self.config = config
        self.topic = config.topic
        self.exit_when_idle = exit_when_idle
        self.counts = EventCounts()
        """Nothing to count yet: a line the shipper cut arrives tagged and was counted by its sink."""
        self.poll_timeout = config.poll_timeout_ms / 1000
        self.max_records = config.max_poll_records
        self.last_record = time.monotonic()
        self.joined = False
        self.owned: set[tuple[str, int]] = set()
        """The partitions the group gave this member, as the rebalance callbacks report them."""
        self.commits_refused = 0
        ensure_topic(config)
        try:
            self.consumer = Consumer(consumer_options(config))
            self.consumer.subscribe(
                [config.topic], on_assign=self._assigned, on_revoke=self._revoked, on_lost=self._lost
            )
        except KafkaException as exc:
            raise SinkUnavailable(f"Kafka consumer could not start: {exc}") from exc

    # Rebalance callbacks: librdkafka calls them from inside ``consume``, on this thread.

    def _assigned(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Logs every assignment (operators and tests see which indexer owns what); resets the idle clock."""
        self.owned = {(p.topic, p.partition) for p in partitions}
        self.last_record = time.monotonic()
        self.joined = True
        log.info("assigned partitions: %s", _names(partitions) or "none")

    def _revoked(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.joined = False
        self.owned.difference_update((p.topic, p.partition) for p in partitions)
        if partitions:
            log.info("revoked partitions: %s", _names(partitions))

    def _lost(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.joined = False
        self.owned.difference_update((p.topic, p.partition) for p in partitions)
        if partitions:
            log.warning("lost partitions (the group moved on without this member): %s", _names(partitions))

    def poll(self, budget_bytes: int = 8 << 20) -> Iterator[Chunk]:
        """What one consumer poll returns, per partition in offset order: runs of one file's plain lines
        as ``ShippedLines`` (no event made per line), any other record as an event."""
        try:
            messages = self._fetched()
        except KafkaException as exc:
            raise SinkUnavailable(f"Kafka consumer failed: {exc}") from exc
        if not messages:
            return
        by_partition: dict[int, list[Any]] = {}
        for message in messages:
            error = message.error()
            if error is not None:
                self._consumer_error(error)
                continue
            by_partition.setdefault(message.partition(), []).append(message)
        if not by_partition:
            return
        self.last_record = time.monotonic()
        for partition, records in by_partition.items():
            yield from self._chunks(partition, records)

    def _fetched(self) -> list[Any]:
        """Up to ``max_records`` records the consumer has fetched, at once; only when it holds none,
        wait up to ``poll_timeout`` for the first. librdkafka's batch ``consume(n, timeout)`` waits for
        all ``n`` (each record that arrives starts the wait again): asking it for 5,000 while 3,000
        were there held the indexer idle for most of the timeout, a hundred times a run."""
        consumer, most = self.consumer, self.max_records
        messages: list[Any] = consumer.consume(most, 0)
        if not messages:
            messages = consumer.consume(1, self.poll_timeout)
            if messages and most > 1:
                messages += consumer.consume(most - 1, 0)
        return messages

    def _chunks(self, partition: int, records: list[Any]) -> Iterator[Chunk]:
        """One partition's records as chunks, in order; each chunk ends after its last record."""
        topic = self.topic
        position = position_of(topic, partition)
        events: list[dict[str, Any]] = []
        events_bytes = 0
        run: _Run | None = None
        last = -1
        for record in records:
            value = record.value()
            headers = record.headers()
            if run is not None and value is not None and headers is not None and len(headers) == 4:
                # The common case, tested first and inline: the next line of the run's file.
                source, offset, host, path = headers
                if (
                    offset[1] == b"%d" % run.next_offset
                    and source == run.source_header
                    and path == run.path_header
                    and host == run.host_header
                    and offset[0] == H_OFFSET
                ):
                    run.lines.append(value)
                    run.next_offset += len(value) + 1
                    last = record.offset()
                    continue
            plain = plain_line(headers) if value is not None else None
            if run is not None:
                yield run.chunk(position, last + 1)
                run = None
            if plain is not None:
                run = _Run.start(plain, value)
            if run is None:
                events.append(event_from_record(value, headers, topic, partition, record.offset()))
                events_bytes += len(value) if value is not None else 0
            elif events:
                yield Chunk(position, events, last + 1, events_bytes)
                events, events_bytes = [], 0
            last = record.offset()
        if run is not None:
            yield run.chunk(position, last + 1)
        elif events:
            yield Chunk(position, events, last + 1, events_bytes)

    def _consumer_error(self, error: KafkaError) -> None:
        """A fatal client error stops the indexer (retriable: a restart rejoins); the rest is logged.

        Broker outages arrive here as informational errors while librdkafka reconnects by itself.
        """
        if error.fatal():
            raise SinkUnavailable(f"Kafka consumer failed: {error}")
        log.warning("kafka consumer: %s", error)

    def ack(self, positions: dict[Position, int]) -> None:
        """Commit these next-offsets for the partitions still assigned to this member."""
        if not positions:
            return
        offsets = []
        for position, offset in positions.items():
            topic, partition = partition_of(position)
            if (topic, partition) in self.owned:
                offsets.append(TopicPartition(topic, partition, offset))
            else:
                self.commits_refused += 1
                log.info("not committing %s@%d: the partition was reassigned", position[0], offset)
        if not offsets:
            return
        try:
            committed = self.consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            self._commit_failed(exc.args[0] if exc.args and isinstance(exc.args[0], KafkaError) else None, exc)
            return
        for result in committed or ():
            if result.error is not None:
                self._commit_failed(result.error, result.error)

    def _commit_failed(self, error: KafkaError | None, what: object) -> None:
        self.commits_refused += 1
        if error is not None and error.code() in REBALANCE_ERRORS:
            log.warning("offset commit refused during a rebalance (the new owner re-delivers): %s", what)
        else:
            # Commits are cumulative: the next one covers these offsets, and until then a restart only
            # re-delivers records already indexed (same ids). Stopping the indexer here would gain nothing.
            log.warning("offset commit failed (the next commit covers it): %s", what)

    def rereads(self, position: Position) -> tuple[int, int] | None:
        """The offsets of a partition this group reads again: from its committed offset (nothing
        committed: the earliest record, ``auto.offset.reset``) on."""
        topic, partition = partition_of(position)
        (found,) = self.consumer.committed([TopicPartition(topic, partition)], timeout=30)
        return (found.offset if found.offset >= 0 else 0, 2**62)

    def bytes_behind(self) -> dict[str, int]:
        return {}

    def done(self) -> bool:
        """With ``exit_when_idle``: a settled group member that got no record for that long.

        The clock runs only between rebalances: joining a group whose dead member has not yet timed out
        takes a session timeout, and an indexer must not give up before it was given its partitions.
        """
        return (
            self.exit_when_idle is not None
            and self.joined
            and time.monotonic() - self.last_record >= self.exit_when_idle
        )

    def close(self) -> None:
        self.consumer.close()
