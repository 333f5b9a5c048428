"""Keys of an event that every stage agrees on: the internal ones travel with an event and are never shipped."""

from __future__ import annotations

RAW = "@raw"
"""The line as read (bytes), until ``decode_json`` turns it into fields."""
SOURCE_ID = "@source_id"
"""The identity of the file generation the line was read from; with the offset it makes the event id."""
TIMEZONE = "@timezone"
"""The zone ``apply_path_settings`` names for ``parse_timestamp``; never shipped."""
INTERNAL_KEYS = frozenset({RAW, SOURCE_ID, TIMEZONE})
