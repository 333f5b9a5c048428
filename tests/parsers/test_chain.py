"""The parsers in their default order: real logger lines come out as ECS, and nothing ever raises."""

from __future__ import annotations

import re
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.document import serialize
from logferry.stages import DEFAULT_ORDER, PROCESSORS
from parsers.common import MapCommonFields
from parsers.decode import DecodeJson
from parsers.error import TagError
from parsers.fingerprint import FingerprintError, grouping
from parsers.http import TagHttp
from parsers.level import ParseLevel
from parsers.message import ParseMessage
from parsers.path_settings import ApplyPathSettings
from parsers.timestamp import ParseTimestamp

CANONICAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
PARSER_CLASSES = tuple(PROCESSORS[name] for name in DEFAULT_ORDER if PROCESSORS[name].__module__.startswith("parsers."))
CHAIN = tuple(cls() for cls in PARSER_CLASSES)
METADATA = {"@source_id": "64769:88:9f3a", "log.file.path": "/var/log/app.log", "log.offset": 4096}


def run_chain(event: dict[str, Any]) -> dict[str, Any]:
    for processor in CHAIN:
        result = processor(event)
        assert result is not None, f"{type(processor).__name__} dropped an event"
        event = result
    return event


def ship(line: bytes) -> dict[str, Any]:
    """The event after the parsers, as the nested document a sink would store."""
    shipped: dict[str, Any] = orjson.loads(serialize(run_chain({"@raw": line, **METADATA})))
    return shipped


def test_the_stage_table_runs_every_parser_first_in_this_order() -> None:
    expected = (
        DecodeJson,
        ApplyPathSettings,
        ParseTimestamp,
        ParseLevel,
        ParseMessage,
        TagError,
        TagHttp,
        MapCommonFields,
        FingerprintError,
    )
    assert expected == PARSER_CLASSES
    assert DEFAULT_ORDER[: len(expected)] == tuple(name for name, cls in PROCESSORS.items() if cls in expected)


def test_pino_http_line() -> None:
    line = (
        b'{"level":30,"time":1763773323123,"pid":4242,"hostname":"web-1","req":{"id":17,"method":"GET",'
        b'"url":"/api/users/42?expand=orders","query":{"expand":"orders"},"params":{},"headers":'
        b'{"host":"localhost:3000","user-agent":"curl/8.4.0"},"remoteAddress":"::ffff:127.0.0.1",'
        b'"remotePort":53122},"res":{"statusCode":200,"headers":{"content-type":"application/json"}},'
        b'"responseTime":1234,"msg":"request completed"}'
    )
    assert ship(line) == {
        "@timestamp": "2025-11-22T01:02:03.123Z",
        "message": "request completed",
        "log": {"level": "info", "file": {"path": "/var/log/app.log"}, "offset": 4096},
        "http": {"request": {"method": "GET"}, "response": {"status_code": 200}},
        "url": {"original": "/api/users/42?expand=orders", "path": "/api/users/42", "query": "expand=orders"},
        "event": {"duration": 1_234_000_000},
        "client": {"ip": "::ffff:127.0.0.1", "port": 53122},
        "user_agent": {"original": "curl/8.4.0"},
        "tags": ["slow_request", "http"],
        "pid": 4242,
        "hostname": "web-1",
        "req": {
            "id": 17,
            "query": {"expand": "orders"},
            "params": {},
            "headers": {"host": "localhost:3000"},
        },
        "res": {"headers": {"content-type": "application/json"}},
    }


def test_winston_line_with_error_stack() -> None:
    line = (
        b'{"level":"error","message":"payment failed","service":"billing",'
        b'"stack":"Error: card declined\\n    at charge (/app/pay.js:10:11)",'
        b'"timestamp":"2026-11-22 01:02:03:045","orderId":"o-9"}'
    )
    assert ship(line) == {
        "@timestamp": "2026-11-22T01:02:03.045Z",
        "message": "payment failed",
        "log": {"level": "error", "file": {"path": "/var/log/app.log"}, "offset": 4096},
        "service": {"name": "billing"},
        "error": {
            "stack_trace": "Error: card declined\n    at charge (/app/pay.js:10:11)",
            "type": "Error",
            "message": "card declined",
            "grouping_key": grouping(
                "billing", "Error", "card declined", "Error: card declined\n    at charge (/app/pay.js:10:11)"
            )[0],
            "grouping_name": "Error: card declined",
            "culprit": "app/pay.js in charge",
        },
        "tags": ["error"],
        "orderId": "o-9",
    }


def test_structlog_line() -> None:
    line = (
        b'{"event":"user logged in","level":"warning","timestamp":"2026-11-22T01:02:03.123456Z",'
        b'"user_id":42,"logger":"app.auth","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}'
    )
    assert ship(line) == {
        "@timestamp": "2026-11-22T01:02:03.123Z",
        "message": "user logged in",
        "log": {"level": "warn", "file": {"path": "/var/log/app.log"}, "offset": 4096},
        "user": {"id": "42"},
        "trace": {"id": "4bf92f3577b34da6a3ce929d0e0e4736"},
        "logger": "app.auth",
    }


def test_bunyan_line_with_err_object() -> None:
    line = (
        b'{"name":"myapp","hostname":"banana.local","pid":40161,"level":50,"msg":"lookup failed",'
        b'"err":{"message":"ENOENT: no such file","name":"Error","stack":"Error: ENOENT: no such file\\n'
        b'    at Object.openSync (fs.js:1:1)","code":"ENOENT"},"time":"2026-11-22T01:02:03.851Z","v":0}'
    )
    assert ship(line) == {
        "@timestamp": "2026-11-22T01:02:03.851Z",
        "message": "lookup failed",
        "log": {"level": "error", "file": {"path": "/var/log/app.log"}, "offset": 4096},
        "error": {
            "type": "Error",
            "message": "ENOENT: no such file",
            "stack_trace": "Error: ENOENT: no such file\n    at Object.openSync (fs.js:1:1)",
            "grouping_key": grouping(
                "", "Error", "ENOENT: no such file", "Error: ENOENT: no such file\n    at Object.openSync (fs.js:1:1)"
            )[0],
            "grouping_name": "Error: ENOENT: no such file",
            "culprit": "fs.js in Object.openSync",
        },
        "err": {"code": "ENOENT"},
        "tags": ["error"],
        "name": "myapp",
        "hostname": "banana.local",
        "pid": 40161,
        "v": 0,
    }


def test_non_json_line_is_kept_and_timestamped() -> None:
    shipped = ship(b"Exception in thread main\r")
    assert shipped["message"] == "Exception in thread main"
    assert shipped["tags"] == ["_jsonparsefailure"]
    assert CANONICAL.match(shipped["@timestamp"])


ALIAS_NAMES = sorted(
    {
        *(
            name
            for config in (cls.Config() for cls in PARSER_CLASSES)
            for value in config.model_dump().values()
            if isinstance(value, tuple)
            for name in value
        ),
        "log",
        "req",
        "res",
        "user",
        "trace",
        "span",
        "service",
        "headers",
        "tags",
        "message",
        "@raw",
        "type",
        "name",
        "id",
        "stack",
        "url",
        "method",
        "http",
        "event",
        "error",
    }
)
keys = st.sampled_from(ALIAS_NAMES) | st.text(max_size=8)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["GET", "/a?b=1", "30", "error", "2026-11-22 01:02:03:123", "TypeError: x", "1700000000"])
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)
# ECS fields the parsers write, with the type they promise when the source did not already use the name.
PROMISED_TYPES: dict[str, type | tuple[type, ...]] = {
    "log.level": str,
    "message": str,
    "http.request.method": str,
    "url.original": str,
    "url.path": str,
    "url.query": str,
    "http.response.status_code": int,
    "event.duration": int,
    "error.message": str,
    "error.type": str,
    "error.stack_trace": str,
    "user.id": str,
    "client.ip": str,
    "user_agent.original": str,
    "trace.id": str,
    "span.id": str,
    "service.name": str,
}
OUR_TAGS = ("_jsonparsefailure", "_utf8error", "_dateparsefailure", "error", "http", "slow_request")


def check_output(source: dict[str, Any], event: dict[str, Any]) -> None:
    serialize(event)
    assert CANONICAL.match(event["@timestamp"])
    for key, kind in PROMISED_TYPES.items():
        if key in event and key not in source:
            assert isinstance(event[key], kind), key
            assert not isinstance(event[key], bool), key
    tags = event.get("tags", [])
    if not isinstance(tags, list):
        assert tags == source["tags"], "a non-list tags is only ever the source's own, untouched"
        return
    for tag in OUR_TAGS:
        assert tags.count(tag) <= 1 or (isinstance(source.get("tags"), list) and source["tags"].count(tag) > 1)


@settings(max_examples=300)
@given(st.dictionaries(keys, json_values, max_size=10))
def test_no_parser_raises_on_an_event_of_arbitrary_json_values(source: dict[str, Any]) -> None:
    event = run_chain({**source})
    check_output(source, event)


@settings(max_examples=200)
@given(st.dictionaries(keys, json_values, max_size=10))
def test_no_parser_raises_on_an_arbitrary_json_line(source: dict[str, Any]) -> None:
    event = run_chain({"@raw": orjson.dumps(source), **METADATA})
    assert {key: event[key] for key in METADATA} == METADATA
    check_output(source, event)


@given(st.binary(max_size=200))
def test_no_parser_raises_on_arbitrary_bytes(raw: bytes) -> None:
    event = run_chain({"@raw": raw, **METADATA})
    assert CANONICAL.match(event["@timestamp"])
    serialize(event)
