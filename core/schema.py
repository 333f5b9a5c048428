"""The one table of the ECS fields logferry ships, with their types: ingest, stores and queries derive from it.

Each field says what it is once: its type (which gives the Elasticsearch mapping, ``elastic/templates.py``,
and the kind of value a query compares, ``query/fields.py``) and how the pipeline normalizes it (case).
The embedded store's typed columns are declared by the store (``store/schema.py``, each naming the
field of this table it holds); a query reads such a field from its column, any other from the document.
Fields not in this table stay in the document under their own names and are mapped dynamically.

The compiled chain's table of field names (``native/src/names.rs``) is generated from these fields,
the internal keys and what the compiled processors declare they read and write
(``python -m logferry.native_tables``); ``tests/test_schema.py`` keeps the checked-in file current.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldType = Literal["keyword", "text", "long", "date", "ip"]


@dataclass(frozen=True)
class EcsField:
    name: str
    type: FieldType
    description: str
    keyword_subfield: bool = False
    """A ``text`` field also indexed whole as ``<name>.keyword`` (for terms aggregations)."""
    text_subfield: bool = False
    """A ``keyword`` field also analysed as ``<name>.text`` (for word searches)."""
    case: Literal["lower", "upper"] | None = None
    """How the pipeline writes it, so that a query value is normalized alike."""
    array: bool = False
    """A list of values (``tags``)."""


FIELDS: tuple[EcsField, ...] = (
    EcsField("@timestamp", "date", "When the event happened (UTC, milliseconds)."),
    EcsField("message", "text", "The human text of the line."),
    EcsField("log.level", "keyword", "Lowercase level name.", case="lower"),
    EcsField("log.file.path", "keyword", "The file the line was read from."),
    EcsField("log.offset", "long", "The line's byte offset in its file."),
    EcsField(
        "tags", "keyword", "What happened to the event (error, http, slow_request, _jsonparsefailure …).", array=True
    ),
    EcsField("error.message", "text", "The error's message.", keyword_subfield=True),
    EcsField("error.type", "keyword", "The exception class."),
    EcsField("error.stack_trace", "text", "The stack trace as written."),
    EcsField("error.grouping_key", "keyword", "What stays the same when the same cause fails again."),
    EcsField("error.grouping_name", "keyword", "A readable title of the error's group.", text_subfield=True),
    EcsField("error.culprit", "keyword", "The frame to blame."),
    EcsField("http.request.method", "keyword", "Upper-case request method.", case="upper"),
    EcsField("http.response.status_code", "long", "The response status."),
    EcsField("http.response.status_class", "keyword", "1xx … 5xx.", case="lower"),
    EcsField("url.original", "keyword", "The request target as logged."),
    EcsField("url.path", "keyword", "Its path."),
    EcsField("url.query", "keyword", "Its query, without '?'."),
    EcsField("event.duration", "long", "Request duration in nanoseconds."),
    EcsField("event.ingested", "date", "When the pipeline processed the event."),
    EcsField("event.id", "keyword", "Deterministic id (file identity + offset)."),
    EcsField("endpoint", "keyword", "The request path templated to its route (not ECS: ours)."),
    EcsField("user.id", "keyword", "The user's id."),
    EcsField("client.ip", "ip", "The client's address."),
    EcsField("user_agent.original", "keyword", "The user agent as sent."),
    EcsField("trace.id", "keyword", "Distributed trace id."),
    EcsField("span.id", "keyword", "Span id."),
    EcsField("service.name", "keyword", "The service that logged."),
    EcsField("host.name", "keyword", "The host the line was shipped from (or the one it names)."),
)

BY_NAME: dict[str, EcsField] = {field.name: field for field in FIELDS}

# The values ingest writes and queries ask for, so that "what is an error" or "a slow request" is one
# definition: the processors' defaults (parsers/) and the query side's filters read these.
LEVEL_ALIASES: dict[str, str] = {"warning": "warn", "err": "error", "crit": "critical", "information": "info"}
"""Level names loggers write, and the name ``log.level`` holds for each (``parse_level``'s default)."""
PINO_LEVELS: dict[int, str] = {10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal"}
"""pino/bunyan level numbers (``parse_level``'s default)."""
ERROR_LEVELS: tuple[str, ...] = ("error", "fatal", "critical")
"""Levels whose events are errors (``tag_error``'s default)."""
ERROR_TAG = "error"
"""The tag of an error event: an error level or a captured exception (``tag_error``)."""
HTTP_TAG = "http"
"""The tag of a request line (``tag_http``)."""
SLOW_TAG = "slow_request"
"""The tag of a request slower than ``slow_request_ms`` (``tag_http``)."""

UNMAPPED_WRITES: frozenset[str] = frozenset({"client.port", "_@timestamp"})
"""Fields processors write that stay dynamically mapped: ``client.port`` (a number or keyword as
sources send it) and ``_@timestamp`` (a source time that did not parse, kept as it was)."""


def rust_names(extra: tuple[str, ...]) -> str:
    """The Rust source of the compiled chain's static names: ``extra`` (internal keys, what processors
    read and write) and every field of ``FIELDS``, each once, in that order."""
    names: list[str] = []
    for name in (*extra, *(field.name for field in FIELDS)):
        if name not in names:
            names.append(name)
    lines = [
        "// Generated by `python -m logferry.native_tables` from core/schema.py, core/keys.py and the",
        "// processors' declarations (`reads`, `writes`); tests/test_schema.py keeps it current. Do not edit.",
        "",
        "known! {",
    ]
    lines += [f"    {_rust_ident(name)} = {_rust_literal(name)}," for name in names]
    lines.append("}")
    return "\n".join(lines) + "\n"


def _rust_ident(name: str) -> str:
    ident = name.replace("@", "AT_").replace(".", "__").replace("-", "_").upper()
    return ident if not ident[0].isdigit() else "_" + ident


def _rust_literal(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
