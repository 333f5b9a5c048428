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
import time
from collections.abc import Callable
from typing import Any

from confluent_kafka import KafkaError as ConfluentKafkaError
from confluent_kafka import KafkaException as ConfluentKafkaException
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from core.errors import SinkUnavailable
from core.keys import SOURCE_ID
from core.outcomes import TRUNCATED, EventCounts
from core.tags import TRUNCATED_TAG
from ingest.batch import Batch
from ingest.kafka_config import KafkaConfig
from ingest.kafka_wire import H_HOST, H_OFFSET, H_PATH, H_SOURCE_ID, Header, encode_text, record_headers

log = logging.getLogger("logferry.kafka")

ProducerHeaders = list[tuple[str, str | bytes | None]]
FLUSH_MARGIN = 5.0
"""Seconds ``flush`` waits past the delivery timeout, by when every record was acknowledged or failed."""


def producer_options(config: KafkaConfig, on_failure: Callable[[Any, Any], None]) -> dict[str, Any]:
    """librdkafka's settings for the shipper: acknowledged by all in-sync replicas, in order, no duplicates
    from its own retries (idempotence), partitioned by key as the Java client does (murmur2), so one
    file's lines keep to one partition whichever client shipped them."""
    options: dict[str, Any] = {
        "bootstrap.servers": ",".join(config.bootstrap_servers),
        "client.id": config.client_id,
        "acks": "all",
        "enable.idempotence": True,
        "partitioner": "murmur2_random",
        "linger.ms": config.linger_ms,
        "batch.size": config.batch_size,
        "compression.type": config.compression_type,
        "message.max.bytes": max(config.max_message_bytes + 64 * 1024, config.batch_size),
        "message.timeout.ms": int(config.flush_timeout * 1000),
        "request.timeout.ms": config.request_timeout_ms,
        "metadata.max.age.ms": config.metadata_max_age_ms,
        "delivery.report.only.error": True,
        "on_delivery": on_failure,
        "logger": log,
    }
    return options


def _file_headers(source_id: str, path: str | None, host: bytes) -> tuple[bytes, Header, Header, Header | None]:
    """A file's record key and the headers all its lines share: source id, host and path."""
    encoded = encode_text(source_id)
    path_header = (H_PATH, encode_text(path)) if path is not None else None
    return encoded, (H_SOURCE_ID, encoded), (H_HOST, host), path_header


def ensure_topic(config: KafkaConfig) -> None:
    """Create the topic with the configured partition count unless it exists; return when it has leaders.

    Done by shippers and indexers alike: a broker that auto-creates topics would otherwise create it
    with its own default partition count (often 1), and one partition cannot be shared by indexers.
    librdkafka's admin client, not kafka-python's: the shipper then never imports kafka-python.
    """
    timeout = config.request_timeout_ms / 1000
    servers = ",".join(config.bootstrap_servers)
    options: dict[str, Any] = {"bootstrap.servers": servers, "client.id": config.client_id, "logger": log}
    admin = AdminClient(options)
    try:
        if config.topic in admin.list_topics(timeout=timeout).topics:
            return
        topic = NewTopic(config.topic, num_partitions=config.partitions, replication_factor=config.replication_factor)
        admin.create_topics([topic], request_timeout=timeout)[config.topic].result()
        log.info("created topic %s with %d partitions", config.topic, config.partitions)
    except ConfluentKafkaException as exc:
        error = exc.args[0] if exc.args and isinstance(exc.args[0], ConfluentKafkaError) else None
        if error is None or error.code() != ConfluentKafkaError.TOPIC_ALREADY_EXISTS:
            raise SinkUnavailable(f"Kafka at {servers} could not provide topic {config.topic}: {exc}") from exc
    _wait_for_leaders(admin, config.topic, timeout)


def _wait_for_leaders(admin: AdminClient, topic: str, timeout: float) -> None:
    """Until every partition of a new topic has a leader: the first produce or fetch does not race them."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = admin.list_topics(topic=topic, timeout=timeout).topics.get(topic)
        except ConfluentKafkaException as exc:
            raise SinkUnavailable(f"Kafka did not describe topic {topic}: {exc}") from exc
        partitions = found.partitions.values() if found is not None and found.error is None else ()
        if partitions and all(p.leader >= 0 for p in partitions):
            return
        if time.monotonic() >= deadline:
            raise SinkUnavailable(f"Kafka topic {topic} has no leader for every partition after {timeout:.0f}s")
        time.sleep(0.1)


class KafkaSink:
    """Sends each line of a batch as one record; returns when the broker acknowledged all of them.

    The producer is librdkafka's (``confluent_kafka``): ``produce`` copies a record into the C client's
    queue for about a microsecond, where kafka-python built each record in Python for 50. Delivery
    reports are asked for failures only, so a successful record costs no Python call; ``flush`` waits
    until every record of the batch was acknowledged or failed, and one failure fails the batch.
    """

    name = "kafka"

    def __init__(self, config: KafkaConfig, host_name: str | None = None) -> None:
        self.config = config
        self.topic = config.topic
        self.host = (host_name or socket.gethostname()).encode("utf-8")
        self.max_message = config.max_message_bytes
        self.flush_timeout = config.flush_timeout
        self.counts = EventCounts()
        self._failures: list[ConfluentKafkaError] = []
        ensure_topic(config)
        self.producer = self._producer()

    def _producer(self) -> Producer:
        try:
            return Producer(producer_options(self.config, self._on_failure))
        except (ConfluentKafkaException, ValueError) as exc:
            raise SinkUnavailable(f"Kafka producer could not be configured: {exc}") from exc

    def _on_failure(self, error: ConfluentKafkaError | None, _message: object) -> None:
        # Called from produce/poll/flush on the writing thread: only failures are reported.
        if error is not None:
            self._failures.append(error)

    def write(self, batch: Batch) -> None:
        self._failures.clear()
        produce, topic, host, limit = self.producer.produce, self.topic, self.host, self.max_message
        files: dict[tuple[str, str | None], tuple[bytes, Header, Header, Header | None]] = {}
        try:
            for event, line in zip(batch.events, batch.docs, strict=True):
                headers: ProducerHeaders
                source_id = event[SOURCE_ID]
                if len(line) > limit or "tags" in event:
                    key = encode_text(source_id)
                    if len(line) > limit:
                        line = line[:limit]
                        headers = [*record_headers(event, host, (TRUNCATED_TAG,))]
                        self.counts.add(TRUNCATED, "max_message_bytes")
                    else:
                        headers = [*record_headers(event, host)]
                else:
                    path = event.get("log.file.path")
                    shared = files.get((source_id, path))
                    if shared is None:
                        shared = files[source_id, path] = _file_headers(source_id, path, host)
                    key, source_header, host_header, path_header = shared
                    offset_header = (H_OFFSET, b"%d" % event["log.offset"])
                    if path_header is None:
                        headers = [source_header, offset_header, host_header]
                    else:
                        headers = [source_header, offset_header, host_header, path_header]
                try:
                    produce(topic, line, key, headers=headers)
                except BufferError:
                    self._wait_for_room(topic, line, key, headers)
            left = self.producer.flush(self.flush_timeout + FLUSH_MARGIN)
        except ConfluentKafkaException as exc:
            raise SinkUnavailable(f"Kafka did not take the batch: {exc}") from exc
        if self._failures:
            self._restart_if_fatal()
            raise SinkUnavailable(
                f"Kafka did not acknowledge {len(self._failures)} of {len(batch)} records: {self._failures[0]}"
            )
        if left:
            raise SinkUnavailable(f"Kafka did not acknowledge {left} of {len(batch)} records in {self.flush_timeout}s")

    def _wait_for_room(self, topic: str, line: bytes, key: bytes, headers: ProducerHeaders) -> None:
        """The client's queue is full: serve delivery reports until this record fits."""
        deadline = time.monotonic() + self.flush_timeout
        while True:
            self.producer.poll(0.05)
            try:
                self.producer.produce(topic, line, key, headers=headers)
                return
            except BufferError:
                if time.monotonic() >= deadline:
                    raise SinkUnavailable(f"Kafka took no record for {self.flush_timeout}s") from None

    def _restart_if_fatal(self) -> None:
        """An idempotent producer's fatal error (e.g. a sequence gap) disables it: the retry needs a new one."""
        if any(error.fatal() for error in self._failures):
            log.warning("Kafka producer hit a fatal error; starting a new one: %s", self._failures[0])
            self.producer.flush(0)
            self.producer = self._producer()

    def close(self) -> None:
        self.producer.flush(10)
