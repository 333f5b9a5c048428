"""decode_json: every line becomes an event, JSON objects merged, anything else kept as text."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.keys import INTERNAL_KEYS
from parsers.decode import DecodeJson
from parsers.timestamp import ParseTimestamp

METADATA = {"@source_id": "64769:1234:abcd", "log.file.path": "/var/log/app.log", "log.offset": 120}


def decode(raw: Any, config: DecodeJson.Config | None = None, **extra: Any) -> dict[str, Any]:
    return DecodeJson(config)({"@raw": raw, **METADATA, **extra})


@pytest.mark.parametrize(
    ("raw", "fields"),
    [
        (b'{"a": 1, "b": {"c": [2, null]}}', {"a": 1, "b": {"c": [2, None]}}),
        (b'{"a": 1}\r', {"a": 1}),
        (b'{"a": 1}\r\n', {"a": 1}),
        (b'  {"msg": "x"}  ', {"msg": "x"}),
        (b"{}", {}),
        ('{"text": "given as str"}', {"text": "given as str"}),
        (bytearray(b'{"a": 2}'), {"a": 2}),
    ],
)
def test_json_object_is_merged_into_the_event(raw: Any, fields: dict[str, Any]) -> None:
    event = decode(raw)
    assert event == {**fields, **METADATA}
    assert "@raw" not in event


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"a": ', '{"a": '),
        (b"plain text line\r", "plain text line"),
        (b"[1, 2]", "[1, 2]"),
        (b'"just a string"', '"just a string"'),
        (b"42", "42"),
        (b"null", "null"),
        (b"", ""),
        (b"\r", ""),
        (b"NaN", "NaN"),
        (b'{"a": 1} trailing', '{"a": 1} trailing'),
    ],
)
def test_anything_but_an_object_keeps_the_line_as_message(raw: bytes, message: str) -> None:
    event = decode(raw)
    assert event == {"message": message, "tags": ["_jsonparsefailure"], **METADATA}


def test_source_metadata_wins_over_same_named_line_keys() -> None:
    event = decode(b'{"log.offset": 9, "log.file.path": "forged", "k": "v"}')
    assert event == {"k": "v", **METADATA}


@pytest.mark.parametrize("key", ["@source_id", "@timezone", "@raw"])
def test_a_line_key_named_like_an_internal_key_is_kept_renamed_and_steers_nothing(key: str) -> None:
    event = decode(orjson.dumps({key: {"not": "a zone"}, "k": "v"}))
    assert event == {"k": "v", f"_{key}": {"not": "a zone"}, **METADATA}
    event["time"] = "2026-11-22 13:20:29"
    event = ParseTimestamp()(event)
    assert event["@timestamp"] == "2026-11-22T13:20:29.000Z"
    assert "tags" not in event


def test_invalid_utf8_is_repaired_tagged_and_still_parsed() -> None:
    event = decode(b'{"user": "caf\xe9", "n": 1}')
    assert event == {"user": "caf\ufffd", "n": 1, "tags": ["_utf8error"], **METADATA}


def test_invalid_utf8_that_is_not_json_is_kept_as_repaired_text() -> None:
    event = decode(b"\xff\xfe broken \xc3")
    assert event["message"] == "\ufffd\ufffd broken \ufffd"
    assert event["tags"] == ["_utf8error", "_jsonparsefailure"]


def test_cut_line_keeps_the_source_tag_and_becomes_a_message() -> None:
    event = decode(b'{"msg": "a very long li', tags=["_truncated"])
    assert event["message"] == '{"msg": "a very long li'
    assert event["tags"] == ["_truncated", "_jsonparsefailure"]


@pytest.mark.parametrize(
    ("raw", "tags"),
    [
        (b'{"tags": ["deploy"], "x": "\xff"}', ["deploy", "_utf8error"]),
        (b'{"tags": "deploy", "x": "\xff"}', ["deploy", "_utf8error"]),
        (b'{"tags": ["_utf8error"], "x": "\xff"}', ["_utf8error"]),
        (b'{"tags": ["deploy"]}', ["deploy"]),
    ],
)
def test_source_tags_and_decode_tags_are_both_kept_once(raw: bytes, tags: list[str]) -> None:
    assert decode(raw)["tags"] == tags


def test_target_puts_the_object_under_one_key() -> None:
    event = decode(b'{"a": 1, "log.offset": 5}', DecodeJson.Config(target="json"))
    assert event == {"json": {"a": 1, "log.offset": 5}, **METADATA}


def test_target_still_keeps_a_non_object_line_as_message() -> None:
    event = decode(b"[1]", DecodeJson.Config(target="json"))
    assert event == {"message": "[1]", "tags": ["_jsonparsefailure"], **METADATA}


def test_event_without_raw_passes_unchanged() -> None:
    event = {"message": "already decoded", **METADATA}
    assert DecodeJson()(dict(event)) == event


@given(st.binary(max_size=300))
def test_any_bytes_decode_without_raising_or_losing_the_line(raw: bytes) -> None:
    event = decode(raw)
    assert "@raw" not in event
    assert {k: event[k] for k in METADATA} == METADATA
    if "_jsonparsefailure" in event.get("tags", []):
        assert event["message"] == raw.rstrip(b"\r\n").decode("utf-8", "replace")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=12), json_values, max_size=8))
def test_every_key_of_a_json_object_arrives_unless_it_is_source_metadata(source: dict[str, Any]) -> None:
    event = decode(orjson.dumps(source))
    for key, value in source.items():
        if key in METADATA or key == "tags":
            continue
        if key in INTERNAL_KEYS:  # a line's own "@timezone" or "@raw" arrives renamed, so it cannot steer
            if "_" + key not in source:
                assert event["_" + key] == value
        elif key.removeprefix("_") not in INTERNAL_KEYS or key.removeprefix("_") not in source:
            assert event[key] == value
    assert "tags" not in event or event["tags"] == source["tags"]


LOGURU_ERROR = {
    "text": "2026-11-22 07:00:25.500 | ERROR    | shop:checkout:12 - payment failed\n"
    "Traceback (most recent call last):\n"
    '  File "/app/shop.py", line 12, in checkout\nPaymentError: card declined\n',
    "record": {
        "elapsed": {"repr": "0:00:01.5", "seconds": 1.5},
        "exception": {"type": "PaymentError", "value": "card declined", "traceback": True},
        "extra": {"user_id": "u-1", "message": "clash"},
        "file": {"name": "shop.py", "path": "/app/shop.py"},
        "function": "checkout",
        "level": {"icon": "x", "name": "ERROR", "no": 40},
        "line": 12,
        "message": "payment failed",
        "module": "shop",
        "name": "shop",
        "process": {"id": 1, "name": "MainProcess"},
        "thread": {"id": 2, "name": "MainThread"},
        "time": {"repr": "2026-11-22 07:00:25.500000-05:00", "timestamp": 1795348825.5},
    },
}


def test_loguru_serialized_record_is_unwrapped() -> None:
    event = decode(orjson.dumps(LOGURU_ERROR))
    assert event == {
        "message": "payment failed",
        "time": "2026-11-22 07:00:25.500000-05:00",
        "level": "ERROR",
        "log.logger": "shop",
        "log.origin.function": "checkout",
        "log.origin.file.line": 12,
        "log.origin.file.name": "/app/shop.py",
        "error": {
            "type": "PaymentError",
            "message": "card declined",
            "stack_trace": 'Traceback (most recent call last):\n  File "/app/shop.py", line 12, in checkout\n'
            "PaymentError: card declined",
        },
        "user_id": "u-1",
        "record": {
            "elapsed": {"repr": "0:00:01.5", "seconds": 1.5},
            "extra": {"message": "clash"},
            "module": "shop",
            "process": {"id": 1, "name": "MainProcess"},
            "thread": {"id": 2, "name": "MainThread"},
        },
        **METADATA,
    }


@pytest.mark.parametrize(
    "line",
    [
        {"text": "t", "record": "not an object"},
        {"text": "t", "record": {"level": "INFO", "time": {}, "message": "m"}},
        {"text": "t", "record": {"level": {"name": "INFO"}, "time": {"repr": "x"}, "message": "m"}, "other": 1},
    ],
)
def test_a_line_that_only_looks_like_loguru_is_merged_as_is(line: dict[str, Any]) -> None:
    assert decode(orjson.dumps(line)) == {**line, **METADATA}


def test_a_loguru_extra_named_like_a_lifted_field_stays_under_record_extra() -> None:
    line = {
        "text": "t",
        "record": {
            "level": {"name": "INFO"},
            "time": {"repr": "2026-11-22 07:00:00+00:00"},
            "message": "m",
            "extra": {"record": 1, "level": "x", "user_id": "u"},
        },
    }
    event = decode(orjson.dumps(line))
    assert event["record"] == {"extra": {"record": 1, "level": "x"}}
    assert (event["level"], event["user_id"]) == ("INFO", "u")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("123456789012345678901234567890", 123456789012345678901234567890),
        ("18446744073709551616", 2**64),
        ("-9223372036854775809", -(2**63) - 1),
        ("18446744073709551615", 2**64 - 1),
        ("1" + "0" * 300, 10**300),
    ],
)
def test_an_integer_beyond_64_bits_keeps_its_exact_value(text: str, value: int) -> None:
    """orjson reads one as a float (its digits gone); the event holds the integer the line wrote."""
    event = decode(f'{{"v": {text}, "f": 1.5, "n": [{text}], "s": "{text}"}}'.encode())
    assert type(event["v"]) is int and event["v"] == value
    assert event["n"] == [value] and event["f"] == 1.5 and event["s"] == text


def test_a_long_integer_in_repaired_text_keeps_its_value_too() -> None:
    event = decode(b'{"v": 123456789012345678901234567890, "m": "caf\xe9"}')
    assert event["v"] == 123456789012345678901234567890 and event["tags"] == ["_utf8error"]


def test_an_integer_beyond_64_bits_is_stored_tagged_with_its_text_in_event_original() -> None:
    """What the README promises (issue 17): tagged ``_serializefailure``, the original text kept."""
    from ingest.document import serialize

    doc = orjson.loads(serialize(decode(b'{"v": 123456789012345678901234567890, "msg": "m"}')))
    assert doc["tags"] == ["_serializefailure"]
    assert doc["event"]["original"] == '{"v":123456789012345678901234567890}'
    assert doc["msg"] == "m" and "v" not in doc
