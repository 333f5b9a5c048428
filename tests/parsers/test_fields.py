"""Alias lookup over flat and nested fields, that every parser relies on."""

from __future__ import annotations

from typing import Any

import pytest

from parsers.fields import MISSING, Alias, as_str, compile_aliases, find_first, head_keys, take_first


@pytest.mark.parametrize(
    ("name", "event", "expected"),
    [
        ("level", {"level": "info"}, "info"),
        ("level", {}, MISSING),
        ("level", {"level": None}, None),
        ("log.level", {"log.level": "warn"}, "warn"),
        ("log.level", {"log": {"level": "warn"}}, "warn"),
        ("log.level", {"log.level": "flat", "log": {"level": "nested"}}, "flat"),
        ("log.level", {"log": "not an object"}, MISSING),
        ("log.level", {"log": {"other": 1}}, MISSING),
        ("req.headers.user-agent", {"req": {"headers": {"user-agent": "curl"}}}, "curl"),
        ("req.headers.user-agent", {"req": {"headers": ["user-agent"]}}, MISSING),
    ],
)
def test_alias_get_reads_flat_key_then_nested_path(name: str, event: dict[str, Any], expected: Any) -> None:
    assert Alias(name).get(event) == expected


@pytest.mark.parametrize(
    ("name", "event", "after"),
    [
        ("level", {"level": 1, "x": 2}, {"x": 2}),
        ("log.level", {"log.level": 1, "log": {"level": 2}}, {"log": {"level": 2}}),
        ("log.level", {"log": {"level": 2, "logger": "a"}}, {"log": {"logger": "a"}}),
        ("log.level", {"log": {"level": 2}, "x": 1}, {"x": 1}),
        ("a.b.c", {"a": {"b": {"c": 1}}}, {}),
        ("a.b.c", {"a": {"b": {"c": 1}, "k": 0}}, {"a": {"k": 0}}),
        ("a.b.c", {"a": {"b": "scalar"}}, {"a": {"b": "scalar"}}),
    ],
)
def test_alias_remove_deletes_the_field_and_emptied_parents(
    name: str, event: dict[str, Any], after: dict[str, Any]
) -> None:
    Alias(name).remove(event)
    assert event == after


def test_find_first_skips_unusable_values_and_leaves_them() -> None:
    event = {"msg": ["not", "text"], "text": "hello"}
    alias, value = find_first(event, compile_aliases(["msg", "text"]), as_str)
    assert (alias.key, value) == ("text", "hello")
    assert event == {"msg": ["not", "text"], "text": "hello"}


def test_take_first_removes_only_the_used_field() -> None:
    event = {"msg": 3, "text": "hello"}
    assert take_first(event, compile_aliases(["msg", "text"]), as_str) == "hello"
    assert event == {"msg": 3}
    assert take_first(event, compile_aliases(["nothing"]), as_str) is MISSING


def test_head_keys_lists_flat_names_and_path_heads() -> None:
    assert head_keys(compile_aliases(["level", "log.level"])) == {"level", "log.level", "log"}
