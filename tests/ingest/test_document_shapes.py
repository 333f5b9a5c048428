"""``nest`` by compiled key shape gives the documents the walk gives, from the second event on."""

from __future__ import annotations

from typing import Any

import orjson

from ingest.document import nest, serialize


def three_times(event: dict[str, Any]) -> list[bytes]:
    return [serialize(dict(event)) for _ in range(3)]


def test_repeated_shape_keeps_key_order_and_drops_internal_keys() -> None:
    event = {"@raw": b"x", "b": 1, "log.level": "info", "a.x": 2, "log.file.path": "/p", "@timestamp": "t", "a.y": 3}
    docs = three_times(event)
    assert docs[0] == docs[1] == docs[2]
    assert docs[0] == b'{"b":1,"log":{"level":"info","file":{"path":"/p"}},"a":{"x":2,"y":3},"@timestamp":"t"}'


def test_repeated_conflicting_shape_is_tagged_every_time() -> None:
    for doc in three_times({"http": "x", "http.request.method": "GET", "tags": ["a"]}):
        expected = {"http": {"value": "x", "request": {"method": "GET"}}, "tags": ["a", "_fieldconflict"]}
        assert orjson.loads(doc) == expected


def test_repeated_shape_with_an_object_beside_its_dotted_key_merges() -> None:
    for doc in three_times({"log": {"logger": "m"}, "log.level": "warn"}):
        assert orjson.loads(doc) == {"log": {"logger": "m", "level": "warn"}}


def test_keys_with_quotes_and_backslashes_are_data_not_code() -> None:
    key = "a'\"\\n}); import os; ({'"
    for _ in range(3):
        assert nest({key: 1, f"{key}x.y": 2}) == {key: 1, f"{key}x": {"y": 2}}


def test_same_shape_different_values_each_get_their_own() -> None:
    first, second = nest({"a.b": 1, "c": [1]}), nest({"a.b": 1, "c": [1]})
    third = nest({"a.b": {"deep": True}, "c": None})
    assert first == second == {"a": {"b": 1}, "c": [1]}
    assert third == {"a": {"b": {"deep": True}}, "c": None}
