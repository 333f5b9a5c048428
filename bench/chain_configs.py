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
        "aliases": {"warning": "warn", "err": "error", "crit": "critical", "information": "info", "notice": "info"},
        "numeric": {10: "trace", 20: "debug", 30: "info", 40: "warn", 50: "error", 60: "fatal", 70: "panic"},
    },
    "parse_message": {"fields": ["message", "msg", "event", "log_message"]},
    "tag_error": {
        "levels": ["error", "fatal", "critical", "alert"],
        "objects": ["error", "err", "exception_info"],
        "object_type_keys": ["type", "name", "kind"],
        "object_message_keys": ["message", "msg", "reason"],
        "object_stack_keys": ["stack_trace", "stacktrace", "stack", "trace"],
        "message_fields": ["error_message", "errorMessage", "err_msg"],
        "type_fields": ["error_type", "errorType", "exception_type", "exc_type", "error_class"],
        "stack_fields": ["stack_trace", "stack", "stacktrace", "exception", "exc_info", "errorVerbose", "backtrace"],
        "panic_fields": ["panic", "fatal_error"],
    },
    "tag_http": {
        "method_fields": ["method", "req.method", "request.method", "http.request.method", "verb"],
        "url_fields": ["url", "path", "req.url", "request.url", "req.path", "url.original", "uri"],
        "status_fields": [
            "status",
            "statusCode",
            "status_code",
            "res.statusCode",
            "res.status",
            "response.status",
            "http.response.status_code",
            "code",
        ],
        "duration_fields": [
            "responseTime",
            "response_time",
            "duration_ms",
            "latency:s",
            "elapsed_ms",
            "duration:ns",
            "took:us",
        ],
        "slow_request_ms": 2000,
    },
    "map_common_fields": {
        "user_id_fields": ["userId", "user_id", "user.id", "uid"],
        "client_ip_fields": ["ip", "remote_addr", "client_ip", "req.remoteAddress", "peer"],
        "client_port_fields": ["client_port", "remote_port", "req.remotePort", "peer_port"],
        "user_agent_fields": ["userAgent", "user_agent", "ua", "req.headers.user-agent", "agent"],
        "trace_id_fields": ["trace_id", "traceId", "trace.id", "x_trace"],
        "span_id_fields": ["span_id", "spanId", "span.id", "x_span"],
        "service_fields": ["service", "service_name", "app", "service.name", "component"],
        "service": "default-svc",
    },
    "fit_ecs_objects": {
        "homes": {
            "user": "user.name",
            "url": "url.original",
            "host": "host.name",
            "error": "error.message",
            "service": "service.name",
            "trace": "trace.id",
            "span": "span.id",
            "user_agent": "user_agent.original",
            "client": "client.address",
            "log": "log.original",
            "event": "event.original",
            "http": "http.value",
            "process": "process.name",
        }
    },
    "template_endpoint": {
        "routes": ["/api/v1/chat/{chatId}/messages", "/api/v1/users/{userId}"],
        "id_patterns": ["user_[0-9]+", "[a-z]-[0-9a-f]{6}"],
        "cache_size": 1024,
    },
    "redact": {
        "fields": ["password", "passwd", "secret", "token", "authorization", "cookie", "api_key", "pin"],
        "allow_fields": [
            "prompt_tokens",
            "completion_tokens",
            "total_tokens",
            "max_tokens",
            "input_tokens",
            "output_tokens",
            "token_count",
            "tokenizer",
        ],
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
