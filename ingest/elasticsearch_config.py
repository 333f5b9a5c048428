"""Config of the Elasticsearch sink and backend: connection, daily indices, template, dead letters."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator

from elastic.connection import ConnectionConfig


class ElasticsearchConfig(ConnectionConfig):
    """The connection (``ConnectionConfig``), then the sink's daily indices, template and dead letters."""

    index_prefix: str = "logferry"
    index_date_pattern: str = Field("%Y.%m.%d", description="strftime pattern of the daily suffix.")
    number_of_shards: int = Field(1, ge=1)
    number_of_replicas: int = Field(0, ge=0)
    refresh_interval: str = "1s"
    deadletter: Literal["index", "file"] = Field(
        "index", description="Refused documents go to the <prefix>-deadletter index, or to deadletter_file."
    )
    deadletter_file: str = Field(
        "deadletter.ndjson",
        description="Relative to data_dir unless absolute; also the fallback when the dead-letter index fails.",
    )
    workers: int = Field(
        2,
        ge=1,
        le=32,
        description="Batches written at once, one _bulk request each (Filebeat's worker); about the data nodes' cores.",
    )
    retry_initial_backoff: float = Field(0.2, gt=0, description="First wait (s) before a retried bulk.")
    retry_max_backoff: float = Field(10.0, gt=0, description="Cap (s) of the exponential backoff; retries never end.")
    startup_timeout: float = Field(
        120.0, gt=0, description="How long (s) to wait for the cluster when installing the template on start."
    )

    @field_validator("index_date_pattern")
    @classmethod
    def _pattern_names_one_day(cls, pattern: str) -> str:
        """Retention parses index names back to days: the pattern must name each day, and only one."""
        sample = dt.date(2026, 12, 31)
        try:
            text = sample.strftime(pattern)
            back = dt.datetime.strptime(text, pattern).date()
        except ValueError as exc:
            raise ValueError(f"index_date_pattern {pattern!r} does not parse back: {exc}") from exc
        if back != sample or text != text.lower() or set(text) & set('*?"<>|/\\, #:'):
            raise ValueError(
                f"index_date_pattern {pattern!r} must name one UTC day in lowercase index-name characters "
                "(e.g. %Y.%m.%d)"
            )
        return pattern
