"""Response models of the API: they document the JSON in OpenAPI; handlers build plain dicts."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Window(BaseModel):
    """The time range an answer covers (the default: the last 24 hours)."""

    model_config = ConfigDict(populate_by_name=True)

    start: str = Field(alias="from", description="ISO 8601 UTC, inclusive.")
    end: str = Field(alias="to", description="ISO 8601 UTC, exclusive.")


class Answer(BaseModel):
    """What every answer over the filters carries besides its figures."""

    window: Window = Field(description="The time range in force: 'from' and 'to' as given, or the default.")
    warnings: list[str] = Field(
        default_factory=list,
        description="What may make the answer not the one meant, e.g. a field no event in the range has.",
    )


class EventsPage(Answer):
    total: int = Field(description="Events matching the filters (exact).")
    events: list[dict[str, Any]] = Field(description="ECS documents, as stored.")
    next: str | None = Field(description="Cursor of the next page; null on the last page.")


class Bucket(BaseModel):
    start: str = Field(description="Bucket start, ISO 8601 UTC.")
    count: int
    series: dict[str, int] = Field(
        description="With 'by': the counts of the top values, 'other' (a value outside them) and 'missing' (no value)."
    )


class ErrorsOverTime(Answer):
    interval: str
    buckets: list[Bucket]


class TopEntry(BaseModel):
    key: str | int
    count: int


class Top(Answer):
    field: str
    total: int = Field(description="Events matching the filters.")
    top: list[TopEntry]
    other: int = Field(description="Events with a value outside the top N.")
    missing: int = Field(description="Events without the field.")


class LatencyStats(BaseModel):
    count: int = Field(description="Events with a duration.")
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None
    slow: int = Field(description="Events tagged slow_request.")
    exact: bool = Field(
        True,
        description="p50/p95/p99 are exact; false when they are estimates (Elasticsearch's t-digest, for more "
        "distinct durations than it reads one by one). count, max and slow are always exact.",
    )


class LatencySeries(LatencyStats):
    key: str


class Latency(Answer):
    overall: LatencyStats
    by: str | None
    series: list[LatencySeries]


class Health(BaseModel):
    status: str
    detail: str | None = None


class Problem(BaseModel):
    detail: str
