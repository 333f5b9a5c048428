"""parse_message: the human text under message, never clobbering one already there."""

from __future__ import annotations

from typing import Any

import pytest

from parsers.decode import DecodeJson
from parsers.message import ParseMessage

parse_default = ParseMessage()


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"msg": "started"}, {"message": "started"}),
        ({"event": "user logged in", "user": 1}, {"message": "user logged in", "user": 1}),
        ({"message": "kept", "msg": "also here"}, {"message": "kept", "msg": "also here"}),
        ({"msg": "", "event": "x"}, {"message": "", "event": "x"}),
        ({"event": {"dataset": "nginx"}}, {"event": {"dataset": "nginx"}}),
        ({"event": {"dataset": "nginx"}, "msg": "m"}, {"event": {"dataset": "nginx"}, "message": "m"}),
        ({"msg": 42, "event": "text"}, {"msg": 42, "message": "text"}),
        ({"msg": None}, {"msg": None}),
        ({"message": {"text": "object"}, "msg": "m"}, {"message": {"text": "object"}, "msg": "m"}),
        ({"message": 7}, {"message": 7}),
        ({}, {}),
    ],
)
def test_message_comes_from_the_first_string_alias(event: dict[str, Any], expected: dict[str, Any]) -> None:
    assert parse_default(event) == expected


def test_message_set_by_decode_for_a_bad_line_is_not_clobbered() -> None:
    event = DecodeJson()({"@raw": b'{"msg": "cut', "@source_id": "s", "log.offset": 0})
    assert parse_default(event)["message"] == '{"msg": "cut'


def test_configured_fields() -> None:
    parse = ParseMessage(ParseMessage.Config(fields=("text", "message")))
    assert parse({"text": "t", "msg": "m"}) == {"message": "t", "msg": "m"}
    assert parse({"body.text": "b"}) == {"body.text": "b"}
