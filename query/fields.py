"""Which field a name in a query means: ECS names, the source names users know, and anything else.

``resolve`` returns one or more fields; more than one (``status``, ``responseTime``) means "either of
these", because the HTTP parser only turns a source ``status`` or duration into the ECS field on HTTP
events (method and url present) and other events keep their own (``status: "failed"``).
"""

from __future__ import annotations

import re

from core.errors import QueryError
from query.expr import Field, Kind
from store.schema import BY_FIELD

NS_PER_MS = 1_000_000.0

_K, _T, _N, _D, _IP = Kind.KEYWORD, Kind.TEXT, Kind.NUMBER, Kind.DATE, Kind.IP


def _doc(path: str) -> str:
    """DuckDB expression of a field inside the stored document (the string form of its value)."""
    return "json_extract_string(doc, '$." + ".".join(f'"{p}"' for p in path.split(".")) + "')"


def _col(field: str) -> str:
    """The typed column of ``events`` that holds an ECS field (``store.schema.COLUMNS``)."""
    return BY_FIELD[field].name


ECS_FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("@timestamp", _D, _col("@timestamp")),
        Field("message", _T, _col("message")),
        Field("log.level", _K, _col("log.level"), case="lower"),
        Field("tags", _K, _col("tags"), array=True),
        Field("error.message", _T, _col("error.message")),
        Field("error.type", _K, _col("error.type")),
        Field("error.grouping_key", _K, _col("error.grouping_key")),
        Field("error.stack_trace", _T, _doc("error.stack_trace")),
        Field("error.grouping_name", _K, _doc("error.grouping_name")),
        Field("error.culprit", _K, _doc("error.culprit")),
        Field("http.request.method", _K, _col("http.request.method"), case="upper"),
        Field("url.original", _K, _doc("url.original")),
        Field("url.path", _K, _col("url.path")),
        Field("url.query", _K, _doc("url.query")),
        Field("http.response.status_code", _N, _col("http.response.status_code")),
        Field("http.response.status_class", _K, _col("http.response.status_class")),
        Field("event.duration", _N, _col("event.duration"), sql_scale=1 / NS_PER_MS),
        Field("event.ingested", _D, f"TRY_CAST({_doc('event.ingested')} AS TIMESTAMPTZ)"),
        Field("event.id", _K, _col("event.id")),
        Field("endpoint", _K, _col("endpoint")),
        Field("user.id", _K, _col("user.id")),
        Field("client.ip", _IP, _doc("client.ip")),
        Field("user_agent.original", _K, _doc("user_agent.original")),
        Field("trace.id", _K, _col("trace.id")),
        Field("span.id", _K, _doc("span.id")),
        Field("service.name", _K, _col("service.name")),
        Field("host.name", _K, _col("host.name")),
        Field("log.file.path", _K, _col("log.file.path")),
        Field("log.offset", _N, _col("log.offset")),
    )
}

KEY_FIELDS = {
    "endpoint": "endpoint",
    "user": "user.id",
    "service": "service.name",
    "error.type": "error.type",
    "status_class": "http.response.status_class",
    "status": "http.response.status_code",
}
"""The keys the API groups and ranks by (``by``, ``field``), and the ECS field each one is."""

# Durations typed by people are milliseconds; the document stores ECS nanoseconds.
DURATION_MS = Field("event.duration", _N, _col("event.duration"), scale=NS_PER_MS)

ALIASES: dict[str, str] = {
    "userId": "user.id",
    "user_id": "user.id",
    "user": "user.id",
    "level": "log.level",
    "severity": "log.level",
    "service": "service.name",
    "path": "url.path",
    "url": "url.original",
    "method": "http.request.method",
    "status_class": "http.response.status_class",
    "trace_id": "trace.id",
    "traceId": "trace.id",
    "span_id": "span.id",
    "spanId": "span.id",
    "host": "host.name",
    "hostname": "host.name",
    "client_ip": "client.ip",
    "ip": "client.ip",
    "msg": "message",
    "tag": "tags",
    "error_type": "error.type",
    "errorType": "error.type",
    "timestamp": "@timestamp",
    "id": "event.id",
}
DURATION_ALIASES = frozenset({"responseTime", "response_time", "duration_ms", "latency", "duration"})
STATUS_ALIASES = frozenset({"status", "statusCode", "status_code"})

_NAME = re.compile(r"^[A-Za-z_@][A-Za-z0-9_@\-]*(\.[A-Za-z0-9_@\-]+)*$")


def source_field(name: str) -> Field:
    """An unmapped source field, kept in the document under its own name."""
    return Field(name, Kind.SOURCE, _doc(name))


def resolve(name: str) -> list[Field]:
    """The field(s) a query name stands for; unknown names are source fields, odd names refused."""
    if not _NAME.match(name):
        raise QueryError(f"field name {name!r} is not valid (letters, digits, '_', '-', '@' and dots)")
    if name in ECS_FIELDS:
        return [ECS_FIELDS[name]]
    if name in ALIASES:
        return [ECS_FIELDS[ALIASES[name]]]
    if name in DURATION_ALIASES:
        return [DURATION_MS, source_field(name)]
    if name in STATUS_ALIASES:
        return [ECS_FIELDS["http.response.status_code"], source_field(name)]
    return [source_field(name)]
