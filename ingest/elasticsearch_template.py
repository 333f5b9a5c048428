"""The composable index template of ``<prefix>-*``: ECS mappings the query backend relies on.

Choices:
- Unmapped source fields (strings, numbers, booleans alike) are ``keyword`` with a ``num`` double
  sub-field (``ignore_malformed``). A field that is a number in one event and a string in another
  (``status: 0`` / ``status: "failed"``) then indexes in either order: equality matches the string
  form on both backends and ranges use ``<field>.num``. Were numbers mapped ``long``, the first
  number would make every later string a rejected document.
- ``date_detection`` and ``numeric_detection`` are off: a string that once looked like a date
  must not make later strings rejections.
- No index-wide ``ignore_malformed``: an object where a scalar was mapped (or the reverse) is still
  refused, so the sink dead-letters it with the reason instead of silently dropping a field.
- ``priority`` 500 beats the built-in ``logs-*-*`` (100); prefixes that would fall under a data
  stream template are refused by ``validate_prefix``.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from core.errors import ConfigError

PRIORITY = 500
IGNORE_ABOVE = 1024
DATA_STREAM_PATTERNS = ("logs-*-*", "metrics-*-*", "traces-*-*", "synthetics-*-*")
_FORBIDDEN = set('*?"<>|/\\, #:')

_KEYWORD = {"type": "keyword", "ignore_above": IGNORE_ABOVE}
_TEXT = {"type": "text"}
_LONG = {"type": "long"}
_DATE = {"type": "date"}


def validate_prefix(prefix: str) -> str:
    """The prefix, if indices ``<prefix>-YYYY.MM.DD`` are valid and no data-stream template takes them."""
    if not prefix:
        raise ConfigError("index prefix must not be empty")
    if prefix != prefix.lower():
        raise ConfigError(f"index prefix {prefix!r} must be lowercase")
    if prefix[0] in "-_+":
        raise ConfigError(f"index prefix {prefix!r} must not start with '-', '_' or '+'")
    bad = sorted(set(prefix) & _FORBIDDEN)
    if bad:
        raise ConfigError(f"index prefix {prefix!r} must not contain {' '.join(repr(c) for c in bad)}")
    if prefix in (".", ".."):
        raise ConfigError(f"index prefix {prefix!r} is not a valid index name")
    if len(prefix.encode()) > 200:
        raise ConfigError("index prefix is too long (at most 200 bytes)")
    # Some index our ``<prefix>-*`` template would take must not be a data stream's name too:
    # with priority 500 our template would win and break that data stream.
    for pattern in DATA_STREAM_PATTERNS:
        if fnmatch.fnmatchcase(f"{prefix}-a-b", pattern):
            raise ConfigError(
                f"index prefix {prefix!r}: indices {prefix}-* overlap the data stream template "
                f"{pattern!r}; choose another prefix (e.g. 'logferry')"
            )
    if re.match(r"^\.", prefix):
        raise ConfigError(f"index prefix {prefix!r} must not start with '.' (hidden/system indices)")
    return prefix


def _props(tree: dict[str, Any]) -> dict[str, Any]:
    """Nested ``properties`` from a dict of dotted names → mapping."""
    out: dict[str, Any] = {}
    for dotted, mapping in tree.items():
        node = out
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {"properties": {}})["properties"]
        node[parts[-1]] = mapping
    return out


ECS_MAPPINGS: dict[str, Any] = {
    "@timestamp": _DATE,
    "message": _TEXT,
    "log.level": _KEYWORD,
    "log.file.path": _KEYWORD,
    "log.offset": _LONG,
    "tags": _KEYWORD,
    "error.message": {"type": "text", "fields": {"keyword": _KEYWORD}},
    "error.type": _KEYWORD,
    "error.stack_trace": {"type": "text"},
    "http.request.method": _KEYWORD,
    "http.response.status_code": _LONG,
    "http.response.status_class": _KEYWORD,
    "url.original": _KEYWORD,
    "url.path": _KEYWORD,
    "url.query": _KEYWORD,
    "event.duration": _LONG,
    "event.ingested": _DATE,
    "event.id": _KEYWORD,
    "endpoint": _KEYWORD,
    "user.id": _KEYWORD,
    "client.ip": {"type": "ip"},
    "user_agent.original": _KEYWORD,
    "trace.id": _KEYWORD,
    "span.id": _KEYWORD,
    "service.name": _KEYWORD,
    "host.name": _KEYWORD,
}

_SOURCE_SCALAR = {
    "type": "keyword",
    "ignore_above": IGNORE_ABOVE,
    "fields": {"num": {"type": "double", "ignore_malformed": True}},
}


def index_template(prefix: str, *, shards: int = 1, replicas: int = 0, refresh_interval: str = "1s") -> dict[str, Any]:
    """The body of ``PUT _index_template/<prefix>`` for the daily indices ``<prefix>-*``."""
    validate_prefix(prefix)
    return {
        "index_patterns": [f"{prefix}-*"],
        "priority": PRIORITY,
        "_meta": {"managed_by": "logferry", "description": "ECS subset of logferry events"},
        "template": {
            "settings": {
                "index": {
                    "number_of_shards": shards,
                    "number_of_replicas": replicas,
                    "refresh_interval": refresh_interval,
                    "mapping": {"total_fields": {"limit": 2000}},
                }
            },
            "mappings": {
                "dynamic": True,
                "date_detection": False,
                "numeric_detection": False,
                "dynamic_templates": [
                    {"source_" + t: {"match_mapping_type": t, "mapping": _SOURCE_SCALAR}}
                    for t in ("string", "long", "double", "boolean")
                ],
                "properties": _props(ECS_MAPPINGS),
            },
        },
    }


def install_template(
    client: Any, prefix: str, *, shards: int = 1, replicas: int = 0, refresh_interval: str = "1s"
) -> None:
    """Create or update the template; indices created afterwards (the next day's) get it."""
    body = index_template(prefix, shards=shards, replicas=replicas, refresh_interval=refresh_interval)
    client.indices.put_index_template(name=prefix, body=body)
