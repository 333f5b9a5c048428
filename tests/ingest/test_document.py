import datetime as dt

import orjson
import pytest

from ingest.document import nest, serialize, utc_day


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"log.level": "info", "message": "m"}, {"log": {"level": "info"}, "message": "m"}),
        (
            {"log.level": "info", "log.file.path": "/a", "log.offset": 3},
            {"log": {"level": "info", "file": {"path": "/a"}, "offset": 3}},
        ),
        ({"@timestamp": "2026-01-01T00:00:00.000Z"}, {"@timestamp": "2026-01-01T00:00:00.000Z"}),
        ({"user": {"name": "x"}, "user.id": "7"}, {"user": {"name": "x", "id": "7"}}),
        ({"user.id": "7", "user": {"name": "x"}}, {"user": {"id": "7", "name": "x"}}),
        ({"@raw": b"x", "@source_id": "s", "a": 1}, {"a": 1}),
    ],
)
def test_dotted_keys_are_nested(event: dict, expected: dict) -> None:
    assert nest(event) == expected


@pytest.mark.parametrize(
    "event",
    [
        {"http": "scalar", "http.request.method": "GET"},
        {"http.request.method": "GET", "http": "scalar"},
    ],
)
def test_scalar_in_the_way_of_an_object_is_kept_and_tagged(event: dict) -> None:
    out = nest(event)
    assert out["http"] == {"value": "scalar", "request": {"method": "GET"}}
    assert out["tags"] == ["_fieldconflict"]


def test_serialize_is_compact_nested_json() -> None:
    assert orjson.loads(serialize({"a.b": 1, "c": [1, 2]})) == {"a": {"b": 1}, "c": [1, 2]}


@pytest.mark.parametrize(
    ("timestamp", "day"),
    [
        ("2026-11-22T01:02:03.123Z", dt.date(2026, 11, 22)),
        ("2026-02-29T00:00:00.000Z", None),
        ("2026/11/22T01:02:03Z", None),
        ("yesterday", None),
        ("", None),
        (1763773323123, None),
        (None, None),
    ],
)
def test_the_day_a_document_is_stored_under(timestamp: object, day: dt.date | None) -> None:
    assert utc_day(timestamp) == day
