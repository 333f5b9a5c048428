"""AssignId: deterministic ids from file identity + offset, else from content."""

from __future__ import annotations

import re
from typing import Any

import pytest

from enrich.event_id import AssignId, content_event_id, event_id

ID_SHAPE = re.compile(r"[A-Za-z0-9_-]{20}")


def file_event(source_id: str = "2049:131:9f86d081", offset: int = 4096, **fields: Any) -> dict[str, Any]:
    return {"@source_id": source_id, "log.file.path": "/var/log/app.log", "log.offset": offset, **fields}


def test_id_is_20_url_safe_characters() -> None:
    assert ID_SHAPE.fullmatch(event_id("2049:131:9f86d081", 0))


def test_same_file_and_offset_give_the_same_id() -> None:
    first = AssignId()({**file_event(message="a"), "event.ingested": "2026-01-01T00:00:00.000Z"})
    replay = AssignId()({**file_event(message="a"), "event.ingested": "2026-06-01T00:00:00.000Z"})
    assert first["event.id"] == replay["event.id"] == event_id("2049:131:9f86d081", 4096)


@pytest.mark.parametrize(
    ("source_a", "offset_a", "source_b", "offset_b"),
    [
        ("2049:131:9f86d081", 4096, "2049:131:9f86d081", 4097),
        ("2049:131:9f86d081", 0, "2049:132:9f86d081", 0),
        ("2049:131:9f86d081", 0, "2049:131:00000000", 0),
        ("1:23", 4, "1:2", 34),
    ],
)
def test_different_file_or_offset_gives_a_different_id(
    source_a: str, offset_a: int, source_b: str, offset_b: int
) -> None:
    assert event_id(source_a, offset_a) != event_id(source_b, offset_b)


def test_file_id_ignores_content() -> None:
    assert AssignId()(file_event(message="a"))["event.id"] == AssignId()(file_event(message="b"))["event.id"]


def test_source_id_is_popped() -> None:
    event = AssignId()(file_event())
    assert "@source_id" not in event
    assert event["log.offset"] == 4096


@pytest.mark.parametrize(
    "event",
    [
        {"message": "from kafka", "log.offset": 17},
        {"@source_id": "stdin", "message": "piped", "log.offset": 0},
        {"@source_id": "2049:131:9f86d081", "message": "no offset"},
        {"@source_id": "2049:131:9f86d081", "log.offset": "12", "message": "string offset"},
        {"@source_id": 5, "log.offset": 12, "message": "odd source id"},
        {"@source_id": "", "log.offset": 12, "message": "empty source id"},
    ],
)
def test_events_without_a_file_position_get_a_content_id(event: dict[str, Any]) -> None:
    expected = content_event_id({k: v for k, v in event.items() if k != "@source_id"})
    assert AssignId()(dict(event))["event.id"] == expected


def test_content_id_is_stable_and_ignores_key_order_and_ingest_time() -> None:
    a = {"message": "m", "n": {"x": 1, "y": [1, 2]}, "event.ingested": "2026-01-01T00:00:00.000Z"}
    b = {"event.ingested": "2030-01-01T00:00:00.000Z", "n": {"y": [1, 2], "x": 1}, "message": "m"}
    ids = {AssignId()(dict(a))["event.id"], AssignId()(dict(b))["event.id"], content_event_id(a)}
    assert len(ids) == 1
    assert ID_SHAPE.fullmatch(ids.pop())


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({"message": "m"}, {"message": "n"}),
        ({"message": "m", "n": 1}, {"message": "m", "n": "1"}),
        ({"message": "m", "l": [1, 2]}, {"message": "m", "l": [2, 1]}),
        ({"message": "m", "host.name": "a"}, {"message": "m", "host.name": "b"}),
    ],
)
def test_different_content_gives_a_different_content_id(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert content_event_id(a) != content_event_id(b)


def test_assigning_twice_keeps_the_id() -> None:
    event = AssignId()({"message": "m"})
    first = event["event.id"]
    assert AssignId()(event)["event.id"] == first


@pytest.mark.parametrize(
    "event",
    [
        {"@raw": b"\xff\xfenot json", "tags": ["_jsonparsefailure"]},
        {"big": 2**80},
        {"mixed_keys": {1: "a", "b": 2}},
        {"float": float("nan")},
    ],
    ids=["raw-bytes", "big-int", "mixed-keys", "nan"],
)
def test_content_id_of_unusual_values_is_stable(event: dict[str, Any]) -> None:
    assert AssignId()(dict(event))["event.id"] == AssignId()(dict(event))["event.id"]


def test_raw_bytes_distinguish_undecoded_events() -> None:
    assert content_event_id({"@raw": b"line one"}) != content_event_id({"@raw": b"line two"})
