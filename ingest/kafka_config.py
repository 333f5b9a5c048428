"""Config of the Kafka hop between shippers and indexers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class KafkaConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    bootstrap_servers: list[str] = Field(default_factory=lambda: ["127.0.0.1:9092"])
    topic: str = "logferry-lines"
    group: str = "logferry-indexers"
    partitions: int = Field(6, ge=1, description="Used when logferry creates the topic.")
