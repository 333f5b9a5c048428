"""Both index templates, together: the daily indices' ECS mappings and the dead-letter index's.

Daily indices ``<prefix>-*``:
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

The dead-letter index ``<prefix>-deadletter`` maps a few fields and keeps the rest unindexed, so it
accepts any refused document; its priority beats the daily template that also matches its name.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from typing import Any

from core.errors import ConfigError, SinkRejected
from core.schema import FIELDS, EcsField
from elastic.errors import api_reason
from elastic.naming import DailyIndex, validate_prefix

PRIORITY = 500
IGNORE_ABOVE = 1024

_KEYWORD = {"type": "keyword", "ignore_above": IGNORE_ABOVE}


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


def _mapping(field: EcsField) -> dict[str, Any]:
    """The Elasticsearch mapping of one field of the schema table."""
    if field.type == "keyword":
        return {**_KEYWORD, "fields": {"text": {"type": "text"}}} if field.text_subfield else _KEYWORD
    if field.keyword_subfield:
        return {"type": field.type, "fields": {"keyword": _KEYWORD}}
    return {"type": field.type}


ECS_MAPPINGS: dict[str, Any] = {field.name: _mapping(field) for field in FIELDS}
"""Every field of ``core.schema``, mapped by its type."""

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


def deadletter_template(prefix: str) -> dict[str, Any]:
    """The body of ``PUT _index_template/<prefix>-deadletter``: a few mapped fields, the rest kept in _source.

    ``dynamic: false`` and an unindexed ``event.original`` mean the dead-letter index itself accepts
    any refused document; its priority beats the daily indices' template that also matches the name.
    """
    keyword = {"type": "keyword", "ignore_above": IGNORE_ABOVE}
    return {
        "index_patterns": [DailyIndex(prefix).deadletter],
        "priority": PRIORITY + 1,
        "_meta": {"managed_by": "logferry", "description": "documents the Elasticsearch sink could not index"},
        "template": {
            "settings": {"index": {"number_of_shards": 1}},
            "mappings": {
                "dynamic": False,
                "properties": {
                    "@timestamp": {"type": "date"},
                    "sink": keyword,
                    "index": keyword,
                    "status": {"type": "integer"},
                    "reason": {"type": "text", "fields": {"keyword": keyword}},
                    "error": {"properties": {"type": keyword}},
                    "event": {
                        "properties": {
                            "id": keyword,
                            "original": {"type": "keyword", "index": False, "doc_values": False},
                        }
                    },
                },
            },
        },
    }


def install_template(
    client: Any, prefix: str, *, shards: int = 1, replicas: int = 0, refresh_interval: str = "1s"
) -> None:
    """Create or update the daily template; indices created afterwards (the next day's) get it."""
    body = index_template(prefix, shards=shards, replicas=replicas, refresh_interval=refresh_interval)
    client.indices.put_index_template(name=prefix, body=body)


def install_templates(
    client: Any, daily: DailyIndex, *, shards: int = 1, replicas: int = 0, refresh_interval: str = "1s"
) -> None:
    """Create or update both templates, then check that daily indices will be plain indices of ours.

    Transport errors propagate as they are (the caller retries them by its policy); a template of
    higher priority that would take today's index (a data stream, a foreign template) is a
    ``ConfigError`` naming it.
    """
    install_template(client, daily.prefix, shards=shards, replicas=replicas, refresh_interval=refresh_interval)
    client.indices.put_index_template(name=daily.deadletter, body=deadletter_template(daily.prefix))
    sample = daily.name(dt.datetime.now(dt.UTC).date())
    winner = winning_template(client, sample)
    if winner is not None and winner.get("name") != daily.prefix:
        kind = "a data stream" if "data_stream" in winner["index_template"] else "an index"
        raise ConfigError(
            f"index {sample!r} would be created as {kind} by the template {winner['name']!r} "
            f"(priority {winner['index_template'].get('priority', 0)}, above logferry's {PRIORITY}); "
            f"choose another index_prefix than {daily.prefix!r}"
        )


def winning_template(client: Any, index: str) -> dict[str, Any] | None:
    """The composable template that applies to a new index of this name (highest priority match)."""
    templates = client.indices.get_index_template().body.get("index_templates", [])
    matching = [
        t
        for t in templates
        if any(fnmatch.fnmatchcase(index, p) for p in t["index_template"].get("index_patterns", []))
    ]
    return max(matching, key=lambda t: t["index_template"].get("priority", 0), default=None)


def install_refused(exc: BaseException, prefix: str) -> ConfigError | SinkRejected:
    """The error to stop with when Elasticsearch refused a template for good (400: a colliding prefix)."""
    status = getattr(getattr(exc, "meta", None), "status", 0)
    if status == 400:
        return ConfigError(
            f"Elasticsearch refused the index template for prefix {prefix!r} — it collides with an "
            f"existing template (choose another index_prefix): {api_reason(exc)}"
        )
    return SinkRejected(f"Elasticsearch refused the index template for prefix {prefix!r}: {exc}")
