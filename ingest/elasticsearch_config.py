"""Config of the Elasticsearch sink and backend: connection, daily indices, template, dead letters."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ElasticsearchConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    hosts: list[str] = Field(default_factory=lambda: ["http://127.0.0.1:9200"])
    api_key: str | None = None
    username: str | None = None
    password: str | None = None
    ca_certs: str | None = None
    verify_certs: bool = True
    request_timeout: float = Field(30.0, gt=0)
    index_prefix: str = "logferry"
    index_date_pattern: str = Field("%Y.%m.%d", description="strftime pattern of the daily suffix.")
    number_of_shards: int = Field(1, ge=1)
    number_of_replicas: int = Field(0, ge=0)
    refresh_interval: str = "1s"
    deadletter: Literal["index", "file"] = "index"
    deadletter_file: str = Field("deadletter.ndjson", description="Relative to data_dir unless absolute.")
