"""Which field a name in a query means: ECS names, the source names applications log, and anything else.

The source names are the parsers' own mapping tables (``parse_message``'s ``msg``/``event``,
``tag_error``'s ``exception``, ``map_common_fields``' ``userId``…), so ``event:"request failed"`` finds
what structlog logged as ``event`` and the pipeline stored as ``message``. ``resolve`` returns one or
more fields; more than one (``status``, ``responseTime``) means "either of these", because the HTTP
parser only turns a source ``status`` or duration into the ECS field on HTTP events (method and url
present) and other events keep their own (``status: "failed"``).
"""

from __future__ import annotations

import re

from core.errors import QueryError
from core.schema import FIELDS as SCHEMA
from core.schema import LEVEL_ALIASES, PINO_LEVELS, EcsField
from query.expr import Field, Kind
from store.schema import BY_FIELD

NS_PER_MS = 1_000_000.0

_K, _T, _N, _D, _IP = Kind.KEYWORD, Kind.TEXT, Kind.NUMBER, Kind.DATE, Kind.IP


def _doc(path: str) -> str:
    """DuckDB expression of a field inside the stored document (the string form of its value)."""
    return "json_extract_string(doc, '$." + ".".join(f'"{p}"' for p in path.split(".")) + "')"


_KINDS = {"keyword": _K, "text": _T, "long": _N, "date": _D, "ip": _IP}
_CASTS = {"long": "BIGINT", "date": "TIMESTAMPTZ"}


def _col(field: str) -> str:
    """The typed column of ``events`` that holds an ECS field (``store.schema.COLUMNS``)."""
    return BY_FIELD[field].name


def _field(ecs: EcsField) -> Field:
    """A field of ``core.schema`` as queries see it: its typed column of the store if it has one
    (``store.schema.COLUMNS``, scaled by its divisor), else its value in the document."""
    column = BY_FIELD.get(ecs.name)
    if column is not None:
        sql, sql_scale = column.name, 1 / column.divisor
    else:
        cast = _CASTS.get(ecs.type)
        sql, sql_scale = (_doc(ecs.name) if cast is None else f"TRY_CAST({_doc(ecs.name)} AS {cast})"), 1.0
    return Field(ecs.name, _KINDS[ecs.type], sql, array=ecs.array, sql_scale=sql_scale, case=ecs.case or "")


ECS_FIELDS: dict[str, Field] = {ecs.name: _field(ecs) for ecs in SCHEMA}

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

# What a bare word searches (``declined``, ``"card declined"``): the texts of an event, as Kibana's default
# of every text field does.
TEXT_FIELDS: tuple[Field, ...] = (ECS_FIELDS["message"], ECS_FIELDS["error.message"], ECS_FIELDS["error.stack_trace"])

# Short names people type; they win over the parsers' names below where both name one thing.
SHORT_NAMES: dict[str, str] = {
    "user": "user.id",
    "service": "service.name",
    "path": "url.path",
    "url": "url.original",
    "status_class": "http.response.status_class",
    "host": "host.name",
    "hostname": "host.name",
    "tag": "tags",
    "id": "event.id",
    "latency": "event.duration",
    "duration": "event.duration",
}


# ECS field → the source names the parsers move into it: their default mapping tables (parse_message,
# parse_level, parse_timestamp, tag_error with its error/err objects, tag_http, map_common_fields), so a
# query may use the names an application logs (structlog's ``event``, ``exception``; pino's ``msg``…).
# query/ builds on core, not on parsers/: tests/query/test_fields.py holds this copy to the parsers' tables.
SOURCE_NAMES: dict[str, tuple[str, ...]] = {
    "message": ("message", "msg", "event"),
    "log.level": ("level", "severity", "log.level", "lvl", "levelname"),
    "@timestamp": ("timestamp", "@timestamp", "time", "ts", "asctime"),
    "error.message": ("error_message", "errorMessage", "panic", "error.message", "error.msg", "err.message", "err.msg"),
    "error.type": (
        *("error_type", "errorType", "exception_type", "exc_type"),
        *("error.type", "error.name", "err.type", "err.name"),
    ),
    "error.stack_trace": (
        *("stack_trace", "stack", "stacktrace", "exception", "exc_info", "errorVerbose"),
        *("error.stack_trace", "error.stacktrace", "error.stack", "err.stack_trace", "err.stacktrace", "err.stack"),
    ),
    "http.request.method": ("method", "req.method", "request.method", "http.request.method"),
    "url.original": ("url", "path", "req.url", "request.url", "req.path", "url.original"),
    "http.response.status_code": (
        *("status", "statusCode", "status_code", "res.statusCode", "res.status", "response.status"),
        "http.response.status_code",
    ),
    "event.duration": ("responseTime", "response_time", "duration_ms", "latency", "elapsed_ms", "duration"),
    "user.id": ("userId", "user_id", "user.id"),
    "client.ip": ("ip", "remote_addr", "client_ip", "req.remoteAddress"),
    "user_agent.original": ("userAgent", "user_agent", "ua", "req.headers.user-agent"),
    "trace.id": ("trace_id", "traceId", "trace.id"),
    "span.id": ("span_id", "spanId", "span.id"),
    "service.name": ("service", "service_name", "app", "service.name"),
}


# The HTTP parser moves a status or a duration only on request lines (a method and a url); other events
# keep theirs under the source name (``"status": "failed"``), so those names mean either.
_EITHER = frozenset({"http.response.status_code", "event.duration"})
# structlog's ``exception`` (and ``exc_info``) is the whole traceback: its type is searched too.
_WITH_TYPE = frozenset({"exception", "exc_info"})


def _names() -> dict[str, tuple[Field, ...]]:
    names: dict[str, tuple[Field, ...]] = {}
    for ecs, sources in SOURCE_NAMES.items():
        target = DURATION_MS if ecs == "event.duration" else ECS_FIELDS[ecs]
        for name in sources:
            if name == ecs or name in names:
                continue
            fields: tuple[Field, ...] = (target, source_field(name)) if ecs in _EITHER else (target,)
            if name in _WITH_TYPE:
                fields = (*fields, ECS_FIELDS["error.type"])
            names[name] = fields
    for name, ecs in SHORT_NAMES.items():
        target = DURATION_MS if ecs == "event.duration" else ECS_FIELDS[ecs]
        names[name] = (target, source_field(name)) if ecs in _EITHER else (target,)
    return names


_NAME = re.compile(r"^[A-Za-z_@][A-Za-z0-9_@\-]*(\.[A-Za-z0-9_@\-]+)*$")


def source_field(name: str) -> Field:
    """An unmapped source field, kept in the document under its own name."""
    return Field(name, Kind.SOURCE, _doc(name))


NAMES: dict[str, tuple[Field, ...]] = _names()
ALIASES: dict[str, str] = {name: fields[0].name for name, fields in NAMES.items()}
"""Each name a query may use besides the ECS names, and the ECS field it stands for (first of them)."""

# Values of log.level as loggers write them, as parse_level stores them: ``warning`` is ``warn``, pino's 50 is error.
LEVEL_VALUES: dict[str, str] = {
    **{name.lower(): level.lower() for name, level in LEVEL_ALIASES.items()},
    **{str(number): level.lower() for number, level in PINO_LEVELS.items()},
}


def resolve(name: str) -> list[Field]:
    """The field(s) a query name stands for; unknown names are source fields, odd names refused."""
    if not _NAME.match(name):
        raise QueryError(f"field name {name!r} is not valid (letters, digits, '_', '-', '@' and dots)")
    if name in ECS_FIELDS:
        return [ECS_FIELDS[name]]
    if name in NAMES:
        return list(NAMES[name])
    return [source_field(name)]


def is_known(name: str) -> bool:
    """An ECS name or a name the parsers map; any other name is looked up in the events as it is."""
    return name in ECS_FIELDS or name in NAMES


def normalized(field: Field, text: str) -> str:
    """A value as the processors store it in ``field``: its case, and log.level's names and numbers."""
    if field.name == "log.level":
        text = text.lower()
        return LEVEL_VALUES.get(text, text)
    if field.case == "lower":
        return text.lower()
    if field.case == "upper":
        return text.upper()
    return text
