"""The indexer's source: a Kafka consumer group over the shippers' topic.

Each poll yields, per partition, the records as the initial events the shipper's file source made
(``ingest/kafka_wire.py``); a chunk's position is ``("<topic>:<partition>", "")`` and its end offset the
next offset to read. ``ack`` commits exactly the offsets of the batch the sink accepted, never more, so
a crash re-delivers what was not indexed yet. A commit refused because a rebalance moved the partition
away is logged and ignored: the new owner resumes from the last commit, and the deterministic ids turn
the re-delivered records into overwrites, not duplicates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.errors import (
    CommitFailedError,
    IllegalGenerationError,
    KafkaError,
    RebalanceInProgressError,
    UnknownMemberIdError,
)
from kafka.structs import OffsetAndMetadata

from core.chunk import Chunk, Position
from core.errors import SinkUnavailable
from core.outcomes import EventCounts
from ingest.kafka_config import KafkaConfig
from ingest.kafka_sink import ensure_topic
from ingest.kafka_wire import event_from_record

log = logging.getLogger("logferry.kafka")

REBALANCE_ERRORS = (CommitFailedError, RebalanceInProgressError, IllegalGenerationError, UnknownMemberIdError)


def connection_options(config: KafkaConfig) -> dict[str, Any]:
    """The kafka-python client options from ``[kafka]``."""
    return {
        "bootstrap_servers": list(config.bootstrap_servers),
        "client_id": config.client_id,
        "request_timeout_ms": config.request_timeout_ms,
        "metadata_max_age_ms": config.metadata_max_age_ms,
    }


def position_of(topic: str, partition: int) -> Position:
    return (f"{topic}:{partition}", "")


def partition_of(position: Position) -> TopicPartition:
    topic, _, partition = position[0].rpartition(":")
    return TopicPartition(topic, int(partition))


class _AssignmentLog(ConsumerRebalanceListener):
    """Logs every assignment (operators and tests see which indexer owns what) and resets the idle clock."""

    def __init__(self, source: KafkaSource) -> None:
        self.source = source

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.source.joined = False
        if revoked:
            log.info("revoked partitions: %s", _names(revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.source.last_record = time.monotonic()
        self.source.joined = True
        log.info("assigned partitions: %s", _names(assigned) or "none")


def _names(partitions: Any) -> str:
    return ",".join(f"{tp.topic}:{tp.partition}" for tp in sorted(partitions))


class KafkaSource:
    """One member of the indexers' consumer group; offsets are committed only through ``ack``."""

    def __init__(self, config: KafkaConfig, *, exit_when_idle: float | None = None) -> None:
        self.config = config
        self.topic = config.topic
        self.exit_when_idle = exit_when_idle
        self.counts = EventCounts()
        """Nothing to count yet: a line the shipper cut arrives tagged and was counted by its sink."""
        self.poll_timeout_ms = config.poll_timeout_ms
        self.max_records = config.max_poll_records
        self.last_record = time.monotonic()
        self.joined = False
        self.commits_refused = 0
        ensure_topic(config)
        try:
            self.consumer = KafkaConsumer(
                **connection_options(config),
                group_id=config.group,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_poll_records=config.max_poll_records,
                max_poll_interval_ms=config.max_poll_interval_ms,
                session_timeout_ms=config.session_timeout_ms,
                heartbeat_interval_ms=max(1000, config.session_timeout_ms // 3),
            )
        except (KafkaError, OSError) as exc:
            raise SinkUnavailable(f"Kafka consumer could not connect: {exc}") from exc
        try:
            # Joining with the topic already in the consumer's metadata: a member that joins before it
            # is assigned nothing and rejoins at once, and that early rejoin is where kafka-python 3
            # was seen to hang (the SyncGroup of the second generation never completing).
            self.consumer.partitions_for_topic(config.topic)
        except KafkaError as exc:
            raise SinkUnavailable(f"Kafka did not describe topic {config.topic}: {exc}") from exc
        self.consumer.subscribe([config.topic], listener=_AssignmentLog(self))

    def poll(self, budget_bytes: int = 8 << 20) -> Iterator[Chunk]:
        """What one consumer poll returns, one chunk per partition, in offset order."""
        polled = self.consumer.poll(timeout_ms=self.poll_timeout_ms, max_records=self.max_records)
        if not polled:
            return
        self.last_record = time.monotonic()
        for tp, records in polled.items():
            if not records:
                continue
            topic, partition = tp.topic, tp.partition
            events = [event_from_record(r.value, r.headers, topic, partition, r.offset) for r in records]
            nbytes = sum(len(r.value) for r in records if r.value is not None)
            yield Chunk(position_of(topic, partition), events, records[-1].offset + 1, nbytes)

    def ack(self, positions: dict[Position, int]) -> None:
        """Commit these next-offsets for the partitions still assigned to this member."""
        if not positions:
            return
        owned = self.consumer.assignment()
        offsets = {}
        for position, offset in positions.items():
            tp = partition_of(position)
            if tp in owned:
                offsets[tp] = OffsetAndMetadata(offset, "", -1)
            else:
                self.commits_refused += 1
                log.info("not committing %s@%d: the partition was reassigned", position[0], offset)
        if not offsets:
            return
        try:
            self.consumer.commit(offsets)
        except REBALANCE_ERRORS as exc:
            self.commits_refused += 1
            log.warning("offset commit refused during a rebalance (the new owner re-delivers): %s", exc)
        except KafkaError as exc:
            # Commits are cumulative: the next one covers these offsets, and until then a restart only
            # re-delivers records already indexed (same ids). Stopping the indexer here would gain nothing.
            self.commits_refused += 1
            log.warning("offset commit failed (the next commit covers it): %s", exc)

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
        self.consumer.close(autocommit=False)
