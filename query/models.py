"""Response models of the API: they document the JSON in OpenAPI; handlers build plain dicts."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class EventsPage(BaseModel):
    total: int = Field(description="Events matching the filters (exact).")
    events: list[dict[str, Any]] = Field(description="ECS documents, as stored.")
    next: str | None = Field(description="Cursor of the next page; null on the last page.")


class Bucket(BaseModel):
    start: str = Field(description="Bucket start, ISO 8601 UTC.")
    count: int
    series: dict[str, int] = Field(description="Counts of the top series and 'other' (when 'by' is set).")


class ErrorsOverTime(BaseModel):
    interval: str
    buckets: list[Bucket]


class TopEntry(BaseModel):
    key: str | int
    count: int


class Top(BaseModel):
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


class LatencySeries(LatencyStats):
    key: str


class Latency(BaseModel):
    overall: LatencyStats
    by: str | None
    series: list[LatencySeries]


class Health(BaseModel):
    status: str
    detail: str | None = None


class Problem(BaseModel):
    detail: str


class Histogram(BaseModel):
    interval: str = Field(description="Bar width, e.g. 30s, 5m, 1h.")
    interval_ms: int
    total: int = Field(description="Events matching the filters in the range (an aggregation, not the rows shown).")
    levels: list[str] = Field(description="The levels stacked, most frequent first; the rest is 'other'.")
    buckets: list[Bucket] = Field(description="One per bar, oldest first; 'series' holds the count per level.")


class FieldValue(BaseModel):
    value: str | int | float | bool
    count: int


class FieldInfo(BaseModel):
    name: str = Field(description="Dotted field name as stored.")
    count: int = Field(description="Sampled events that have the field.")
    distinct: int = Field(description="Distinct values in the sample.")
    top: list[FieldValue]


class Fields(BaseModel):
    total: int = Field(description="Events matching the filters.")
    sampled: int = Field(description="Newest matching events the counts are over.")
    fields: list[FieldInfo]


class Context(BaseModel):
    event: dict[str, Any]
    source: dict[str, Any] | None = Field(description="host.name, log.file.path and log.offset; null when unknown.")
    before: list[dict[str, Any]] = Field(description="Lines before the event in its file, oldest first.")
    after: list[dict[str, Any]] = Field(description="Lines after it, oldest first.")


class SavedSearchBody(BaseModel):
    params: dict[str, str] = Field(description="Query parameters of the search (q, from, to, level, …, columns).")


class SavedSearch(SavedSearchBody):
    name: str
    saved_at: str
