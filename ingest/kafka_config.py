"""Config of the Kafka hop between shippers and indexers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class KafkaConfig(BaseModel):
    """``[kafka]``: the topic shippers write raw lines to and indexers consume as one group."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bootstrap_servers: list[str] = Field(default_factory=lambda: ["127.0.0.1:9092"])
    topic: str = "logferry-lines"
    group: str = "logferry-indexers"
    partitions: int = Field(6, ge=1, description="Used when logferry creates the topic.")
    replication_factor: int = Field(1, ge=1, description="Used when logferry creates the topic.")
    client_id: str = "logferry"
    request_timeout_ms: int = Field(30_000, ge=1000)
    metadata_max_age_ms: int = Field(
        30_000,
        ge=1000,
        description="How often clients refresh topic metadata: a group that was assigned nothing because the "
        "topic's partitions were not known yet rebalances at the next refresh.",
    )
    # Producer (ship --to kafka)
    linger_ms: int = Field(5, ge=0, description="How long the producer waits to fill a record batch.")
    batch_size: int = Field(
        1_000_000, ge=1024, description="Most bytes of one partition's record batch (within the broker's limit)."
    )
    compression_type: Literal["none", "gzip", "lz4", "zstd"] = Field(
        "lz4",
        description="Codec of the shipper's record batches; the indexers (and any consumer) decompress them. "
        "lz4 costs little CPU and shrinks JSON lines several times on the wire and on the broker's disk.",
    )
    max_message_bytes: int = Field(
        1_000_000,
        ge=1024,
        description="Longer lines are cut to this size and tagged _truncated (the broker default limit is ~1 MB).",
    )
    flush_timeout: float = Field(120.0, gt=0, description="Seconds a batch may wait for acks before it is retried.")
    # Consumer (index --from kafka)
    max_poll_records: int = Field(5000, ge=1)
    poll_timeout_ms: int = Field(200, ge=0, description="How long one poll waits for records.")
    max_poll_interval_ms: int = Field(
        600_000, ge=10_000, description="A consumer stuck longer than this (sink down) leaves the group."
    )
    session_timeout_ms: int = Field(10_000, ge=1000)
    exit_when_idle: float | None = Field(
        None, gt=0, description="index: exit 0 after this many seconds without a new record; unset = run on."
    )
