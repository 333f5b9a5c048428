"""The shipper's sink: raw lines to a Kafka topic, acknowledged by all in-sync replicas.

``write`` returns only when the broker acknowledged every record of the batch (``acks=all``), so the
file registry advances on producer acknowledgement and not before. Any failure raises
``SinkUnavailable`` and the pipeline sends the whole batch again: duplicates in the topic are harmless
because the indexers derive the event id from the source id and offset carried in the headers.
See ``ingest/kafka_wire.py`` for the record layout.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.partitioner.default import DefaultPartitioner

from core.errors import SinkUnavailable
from core.keys import SOURCE_ID
from core.outcomes import TRUNCATED, EventCounts
from core.tags import TRUNCATED_TAG
from ingest.batch import Batch
from ingest.kafka_config import KafkaConfig
from ingest.kafka_wire import record_headers

log = logging.getLogger("logferry.kafka")


def connection_options(config: KafkaConfig) -> dict[str, Any]:
    """Options every logferry Kafka client shares."""
    return {
        "bootstrap_servers": list(config.bootstrap_servers),
        "client_id": config.client_id,
        "request_timeout_ms": config.request_timeout_ms,
        "metadata_max_age_ms": config.metadata_max_age_ms,
    }


def ensure_topic(config: KafkaConfig) -> None:
    """Create the topic with the configured partition count unless it exists.

    Done by shippers and indexers alike: a broker that auto-creates topics would otherwise create it
    with its own default partition count (often 1), and one partition cannot be shared by indexers.
    """
    try:
        admin = KafkaAdminClient(**connection_options(config))
    except (KafkaError, OSError) as exc:
        raise SinkUnavailable(f"Kafka at {','.join(config.bootstrap_servers)} is unreachable: {exc}") from exc
    try:
        if config.topic in admin.list_topics():
            return
        admin.create_topics(
            [NewTopic(config.topic, num_partitions=config.partitions, replication_factor=config.replication_factor)],
            wait_for_metadata=True,  # leaders elected: the first produce or fetch does not race them
        )
        log.info("created topic %s with %d partitions", config.topic, config.partitions)
    except TopicAlreadyExistsError:
        return
    except KafkaError as exc:
        raise SinkUnavailable(f"could not create Kafka topic {config.topic}: {exc}") from exc
    finally:
        admin.close()


class KeyCachingPartitioner(DefaultPartitioner):
    """The Java-compatible murmur2 key partitioner, remembered per key.

    Keys are source ids, a handful per shipper, while lines are many: hashing every record's key in
    pure Python was a sixth of the shipper's time.
    """

    MAX_KEYS = 4096

    def __init__(self) -> None:
        self._cache: dict[tuple[str, bytes], tuple[int, int]] = {}

    def partition(
        self, topic: str, key: Any, serialized_key: bytes | None, value: Any, serialized_value: Any, cluster: Any
    ) -> int:
        if serialized_key is None:
            return int(super().partition(topic, key, serialized_key, value, serialized_value, cluster))
        count = len(cluster.partitions_for_topic(topic) or ())
        cached = self._cache.get((topic, serialized_key))
        if cached is not None and cached[0] == count:
            return cached[1]
        chosen = int(super().partition(topic, key, serialized_key, value, serialized_value, cluster))
        if len(self._cache) >= self.MAX_KEYS:
            self._cache.clear()
        self._cache[(topic, serialized_key)] = (count, chosen)
        return chosen


class KafkaSink:
    """Sends each line of a batch as one record; returns when all are acknowledged."""

    name = "kafka"

    def __init__(self, config: KafkaConfig, host_name: str | None = None) -> None:
        self.config = config
        self.topic = config.topic
        self.host = (host_name or socket.gethostname()).encode("utf-8")
        self.max_message = config.max_message_bytes
        self.flush_timeout = config.flush_timeout
        self.counts = EventCounts()
        ensure_topic(config)
        try:
            self.producer = KafkaProducer(
                **connection_options(config),
                acks="all",
                linger_ms=config.linger_ms,
                batch_size=config.batch_size,
                compression_type=config.compression_type,
                delivery_timeout_ms=int(config.flush_timeout * 1000),
                max_block_ms=int(config.flush_timeout * 1000),
                partitioner=KeyCachingPartitioner(),
            )
        except (KafkaError, OSError) as exc:
            raise SinkUnavailable(f"Kafka producer could not connect: {exc}") from exc

    def write(self, batch: Batch) -> None:
        send, topic, host, limit = self.producer.send, self.topic, self.host, self.max_message
        futures = []
        try:
            for event, line in zip(batch.events, batch.docs, strict=True):
                source_id = event[SOURCE_ID]
                if len(line) > limit:
                    line = line[:limit]
                    headers = record_headers(event, host, (TRUNCATED_TAG,))
                    self.counts.add(TRUNCATED, "max_message_bytes")
                else:
                    headers = record_headers(event, host)
                futures.append(
                    send(topic, value=line, key=source_id.encode("utf-8", "surrogateescape"), headers=headers)
                )
            self.producer.flush(timeout=self.flush_timeout)
        except KafkaError as exc:
            raise SinkUnavailable(f"Kafka did not acknowledge the batch: {exc}") from exc
        failed = [f.exception for f in futures if not f.is_done or f.failed()]
        if failed:
            raise SinkUnavailable(f"Kafka did not acknowledge {len(failed)} of {len(futures)} records: {failed[0]!r}")

    def close(self) -> None:
        self.producer.close(timeout=10)
