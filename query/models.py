"""Response models of the API: they document the JSON in OpenAPI; handlers build plain dicts."""

from __future__ import annotations

from typing import Any, Literal

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


class GroupCount(BaseModel):
    key: str
    count: int


class ErrorGroup(BaseModel):
    key: str = Field(description="error.grouping_key: service + type + top in-app frames (or the masked message).")
    title: str | None = Field(description="error.grouping_name of the newest event: type and masked message.")
    type: str | None
    culprit: str | None = Field(description="The in-app frame that raised (module/file in function).")
    count: int = Field(description="Events of the group inside the range.")
    users: int = Field(description="Distinct user.id among them.")
    first_seen: str = Field(description="The group's first event in the whole store.")
    last_seen: str = Field(description="The group's last event in the whole store.")
    new: bool = Field(description="First seen inside the range.")
    regressed: bool = Field(description="Resolved, then seen again after that.")
    state: str = Field(description="open, regressed, resolved or ignored.")
    state_changed: str | None
    endpoints: list[GroupCount] = Field(description="Top endpoints of the group in the range.")
    services: list[GroupCount]
    counts: list[int] = Field(description="Events per bucket (the sparkline), aligned with 'buckets'.")
    sample: dict[str, Any] | None = Field(description="The newest event of the group in the range.")


class ErrorGroups(BaseModel):
    interval: str
    buckets: list[str] = Field(description="Bucket starts of every group's 'counts'.")
    total: int = Field(description="Groups matching (before 'limit').")
    groups: list[ErrorGroup]


class GroupDecision(BaseModel):
    state: Literal["resolved", "ignored", "open"] = Field(
        description="resolved (a later event makes it regressed), ignored (hidden), or open (undo either)."
    )


class GroupStateOut(BaseModel):
    key: str
    state: str
    changed: str | None


class Pattern(BaseModel):
    template: str = Field(description="The lines' shared text; variable tokens are <*>.")
    count: int = Field(description="Lines of the sample with this pattern.")
    share: float = Field(description="count / sampled.")
    first_seen: str
    last_seen: str
    sample: str = Field(description="One line of the pattern, as logged.")
    query: str = Field(description="A q (Lucene) that finds the pattern's lines: its constant words as phrases.")


class Patterns(BaseModel):
    total: int = Field(description="Events matching the filters.")
    sampled: int = Field(description="The newest of them that were mined (at most 'sample').")
    patterns: list[Pattern]
