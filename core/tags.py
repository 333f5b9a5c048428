"""Tags: how an event says what happened to it, counted per tag by the pipeline."""

from __future__ import annotations

from typing import Any

TRUNCATED_TAG = "_truncated"
"""A line cut at ``max_line_bytes``: the file source tags it and the Kafka hop carries the tag in a header."""


def add_tag(event: dict[str, Any], tag: str) -> None:
    """Add ``tag`` once; a source ``tags`` that is not a list is kept as the list's first item."""
    tags = event.get("tags")
    if tags is None:
        event["tags"] = [tag]
        return
    if type(tags) is not list:
        tags = event["tags"] = [tags]
    if tag not in tags:
        tags.append(tag)
