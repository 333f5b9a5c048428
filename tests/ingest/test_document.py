import orjson
import pytest

from ingest.document import nest, serialize


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


def nested_list(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


UNSERIALIZABLE: dict[str, tuple[object, object, str]] = {
    "nested past orjson's limit": ("deep", nested_list(300), "[" * 301 + "]" * 301),
    "integer past 64 bits": ("big", 2**70, str(2**70)),
    "lone surrogate": ("s", "a\ud800b", '"a\\ud800b"'),
    "non-string key inside": ("m", {1: "one"}, '{"1":"one"}'),
}


@pytest.mark.parametrize("name", list(UNSERIALIZABLE))
def test_a_field_that_does_not_serialize_moves_to_event_original(name: str) -> None:
    key, value, text = UNSERIALIZABLE[name]
    event = {"@timestamp": "2026-01-01T00:00:00.000Z", "log.offset": 7, "message": "m", key: value}
    doc = orjson.loads(serialize(event))
    assert doc["@timestamp"] == "2026-01-01T00:00:00.000Z"
    assert (doc["message"], doc["log"]["offset"]) == ("m", 7)
    assert key not in doc
    assert doc["event"]["original"] == "{" + orjson.dumps(key).decode() + ":" + text + "}"
    assert doc["tags"] == ["_serializefailure"]
    assert doc["logferry"]["serialize_error"]
    assert event["tags"] == ["_serializefailure"], "the event is tagged too, so the tag is counted"


def test_a_top_level_non_string_key_is_kept_as_text() -> None:
    doc = orjson.loads(serialize({"@timestamp": "2026-01-01T00:00:00.000Z", 5: "five"}))
    assert doc["event"]["original"] == '{"5":"five"}'


def test_keys_that_do_not_serialize_or_nest_too_deep_move_to_event_original() -> None:
    dotted = ".".join(["k"] * 150)
    event = {"@timestamp": "2026-01-01T00:00:00.000Z", "event.id": "e1", "bad\udc80key": 1, dotted: 2}
    doc = orjson.loads(serialize(event))
    assert (doc["@timestamp"], doc["event"]["id"]) == ("2026-01-01T00:00:00.000Z", "e1")
    assert "k" not in doc
    assert doc["event"]["original"] == r'{"bad\udc80key":1,"' + dotted + '":2}'
