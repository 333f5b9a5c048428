"""Turn an internal event (flat dotted ECS keys beside source fields) into the shipped document.

Internally processors write ECS fields under dotted keys (``"log.level"``) because that is one dict
operation; on output they are nested (``{"log": {"level": ...}}``) as ECS and Elasticsearch expect.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import orjson

from parsers.fields import add_tag

RAW = "@raw"
SOURCE_ID = "@source_id"
INTERNAL_KEYS = frozenset({RAW, SOURCE_ID})
CONFLICT_TAG = "_fieldconflict"


_CACHE_MAX = 65_536
_paths: dict[str, tuple[str, ...] | None] = {}


def _path(key: str) -> tuple[str, ...] | None:
    """The nesting path of a key (cached: keys repeat from event to event); None for internal keys."""
    if key in INTERNAL_KEYS:
        return None
    path = (key,) if "." not in key or key == "@timestamp" else tuple(key.split("."))
    if len(_paths) < _CACHE_MAX:
        _paths[key] = path
    return path


def nest(event: dict[str, Any]) -> dict[str, Any]:
    """Nest dotted keys into objects; internal keys are dropped.

    When a dotted ECS key needs an object where the source had a scalar (source ``"http": "x"``
    beside ``"http.request.method"``), the scalar is kept under ``<name>.value`` and the event is
    tagged ``_fieldconflict``: nothing is lost and the document stays indexable.
    """
    out: dict[str, Any] = {}
    conflict = False
    paths = _paths
    for key, value in event.items():
        path = paths[key] if key in paths else _path(key)
        if path is None:
            continue
        node = out
        for part in path[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif type(child) is not dict:
                child = node[part] = {"value": child}
                conflict = True
            node = child
        last = path[-1]
        existing = node.get(last)
        if existing is None:
            node[last] = value
        elif type(existing) is dict:
            if type(value) is dict:
                _merge(existing, value)
            else:
                existing["value"] = value
                conflict = True
        else:
            node[last] = value
    if conflict:
        add_tag(out, CONFLICT_TAG)
    return out


def _merge(into: dict[str, Any], other: dict[str, Any]) -> None:
    for key, value in other.items():
        existing = into.get(key)
        if isinstance(existing, dict) and isinstance(value, dict):
            _merge(existing, value)
        else:
            into[key] = value


def serialize(event: dict[str, Any]) -> bytes:
    """The one serialization of an event: nested ECS document as compact JSON bytes."""
    return orjson.dumps(nest(event))


def utc_day(timestamp: object) -> dt.date | None:
    """The UTC day a document is stored under (its ``@timestamp``); None when it has none usable.

    Both sinks partition by it (DuckDB day files, Elasticsearch daily indices), so they agree on
    which day, and on which documents have no day and are dead-lettered.
    """
    if not isinstance(timestamp, str):
        return None
    return _day(timestamp[:10])


@lru_cache(maxsize=1024)
def _day(prefix: str) -> dt.date | None:
    if len(prefix) != 10 or prefix[4] != "-":
        return None
    try:
        return dt.date.fromisoformat(prefix)
    except ValueError:
        return None
