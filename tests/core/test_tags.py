"""Tagging: how an event says what happened to it."""

from __future__ import annotations

from typing import Any

import pytest

from core.tags import add_tag

NO_TAGS = object()


@pytest.mark.parametrize(
    ("tags_before", "tags_after"),
    [
        (NO_TAGS, ["t"]),
        (None, ["t"]),
        ([], ["t"]),
        (["a"], ["a", "t"]),
        (["t"], ["t"]),
        ("prod", ["prod", "t"]),
        ({"k": 1}, [{"k": 1}, "t"]),
    ],
)
def test_add_tag_never_duplicates_and_keeps_source_tags(tags_before: Any, tags_after: list[Any]) -> None:
    event: dict[str, Any] = {} if tags_before is NO_TAGS else {"tags": tags_before}
    add_tag(event, "t")
    add_tag(event, "t")
    assert event["tags"] == tags_after
