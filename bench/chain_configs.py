"""Processor configurations the benchmarks and the differential tests run besides the defaults.

``CHANGED`` changes every option of every processor to a value a team would configure (the README's
``slow_request_ms = 2000``, routes, id patterns, a path rule with a zone, one more secret field …),
so the compiled chain is measured and compared where users take it, not only at the defaults.
Two options are left at their defaults there, because changing them leaves the rest nothing to do
(``decode_json.target``, ``redact.enabled``); each is changed on its own in ``OTHER_CHANGES``
(``tests/test_fast_path_differential.py`` changes every option alone, and fails for an option that
has no changed value here).
"""

from __future__ import annotations

from typing import Any

from core.schema import ERROR_LEVELS, LEVEL_ALIASES, PINO_LEVELS
from enrich.ecs_objects import DEFAULT_HOMES
from enrich.redact import Redact
from parsers.common import MapCommonFields
from parsers.error import TagError
from parsers.http import TagHttp
from parsers.message import ParseMessage


def _with(processor: Any, option: str, *more: str) -> list[str]:
    """A default alias list of ``processor`` with ``more`` names after its own."""
    return [*getattr(processor.Config(), option), *more]


CHANGED: dict[str, dict[str, Any]] = {
    "apply_path_settings": {
        "rules": [
            {
                "paths": ["/var/log/app/*", "*/fuzz/*"],
                "timezone": "Europe/Berlin",
                "service": "billing",
                "tags": ["legacy"],
            },
            {"paths": ["*corpus*"], "timezone": "America/New_York"},
        ]
    },
    "parse_timestamp": {
        "fields": ["ts", "time", "timestamp", "@timestamp", "asctime", "date"],
        "timezone": "Asia/Kolkata",
    },
    "parse_level": {
        "fields": ["severity", "level", "lvl", "log.level", "levelname", "loglevel"],
        "aliases": {**LEVEL_ALIASES, "notice": "info"},
        "numeric": {**PINO_LEVELS, 70: "panic"},
    },
    "parse_message": {"fields": _with(ParseMessage, "fields", "log_message")},
    "tag_error": {
        "levels": [*ERROR_LEVELS, "alert"],
        "objects": _with(TagError, "objects", "exception_info"),
        "object_type_keys": _with(TagError, "object_type_keys", "kind"),
        "object_message_keys": _with(TagError, "object_message_keys", "reason"),
        "object_stack_keys": _with(TagError, "object_stack_keys", "trace"),
        "message_fields": _with(TagError, "message_fields", "err_msg"),
        "type_fields": _with(TagError, "type_fields", "error_class"),
        "stack_fields": _with(TagError, "stack_fields", "backtrace"),
        "panic_fields": _with(TagError, "panic_fields", "fatal_error"),
    },
    "tag_http": {
        "method_fields": _with(TagHttp, "method_fields", "verb"),
        "url_fields": _with(TagHttp, "url_fields", "uri"),
        "status_fields": _with(TagHttp, "status_fields", "code"),
        "duration_fields": _with(TagHttp, "duration_fields", "took:us"),
        "slow_request_ms": 2000,
    },
    "map_common_fields": {
        "user_id_fields": _with(MapCommonFields, "user_id_fields", "uid"),
        "client_ip_fields": _with(MapCommonFields, "client_ip_fields", "peer"),
        "client_port_fields": _with(MapCommonFields, "client_port_fields", "peer_port"),
        "user_agent_fields": _with(MapCommonFields, "user_agent_fields", "agent"),
        "trace_id_fields": _with(MapCommonFields, "trace_id_fields", "x_trace"),
        "span_id_fields": _with(MapCommonFields, "span_id_fields", "x_span"),
        "service_fields": _with(MapCommonFields, "service_fields", "component"),
        "service": "default-svc",
    },
    "fingerprint_error": {"frames": 2},
    "fit_ecs_objects": {"homes": {**DEFAULT_HOMES, "process": "process.name"}},
    "template_endpoint": {
        "routes": ["/api/v1/chat/{chatId}/messages", "/api/v1/users/{userId}"],
        "id_patterns": ["user_[0-9]+", "[a-z]-[0-9a-f]{6}"],
        "cache_size": 1024,
    },
    "redact": {
        "fields": _with(Redact, "fields", "pin"),
        "allow_fields": _with(Redact, "allow_fields", "tokenizer"),
        "patterns": ["bearer", "email", "card"],
        "extra_patterns": ["sk_live_[A-Za-z0-9]+"],
        "mask": "***",
    },
    "add_metadata": {"host_name": "shipper-7", "add_ingested": False},
}
"""Every option changed (but the two of ``OTHER_CHANGES``), as ``[processors.*]`` sections."""

OTHER_CHANGES: dict[str, dict[str, Any]] = {
    "decode_json": {"target": "line"},
    "redact": {"enabled": False},
}
"""Options whose change leaves other processors nothing to do: changed alone, never in ``CHANGED``."""


def changed_value(processor: str, option: str) -> Any:
    """The value ``option`` of ``processor`` is changed to when it is changed alone."""
    if option in OTHER_CHANGES.get(processor, {}):
        return OTHER_CHANGES[processor][option]
    return CHANGED[processor][option]
