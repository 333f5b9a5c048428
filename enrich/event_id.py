"""``event.id``: a deterministic id, so a replayed line overwrites itself instead of duplicating.

Delivery is at-least-once; the DuckDB and Elasticsearch sinks upsert by ``event.id``. For a line from
a file the id is a hash of the file identity (``@source_id``, which this processor pops) and the
line's ``log.offset``: re-reading the line gives the same id, another file or offset another one.

An event without both (stdin, Kafka, a hand-built event) has no stable position, so the id is a hash
of its content: the event serialized with sorted keys, without ``event.ingested`` (processing time)
and ``event.id`` (so assigning twice gives the same id). The ``stdin`` source id names no file and is
treated as absent: two different stdin streams share it and would otherwise overwrite each other's
lines. Consequence: identical content lines from such sources collapse to one event.

Ids are 15 bytes of BLAKE2b in unpadded base64url: 20 URL- and index-safe characters.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from core.keys import SOURCE_ID

EVENT_ID = "event.id"
OFFSET = "log.offset"
STDIN_SOURCE_ID = "stdin"
CONTENT_EXCLUDED = frozenset({"event.ingested", EVENT_ID, SOURCE_ID})
_DIGEST_SIZE = 15


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.blake2b(data, digest_size=_DIGEST_SIZE).digest()).decode("ascii")


def event_id(source_id: str, offset: int) -> str:
    """The id of the line at byte ``offset`` of the file identified by ``source_id``."""
    return _digest(f"{source_id}:{offset}".encode())


def content_event_id(event: dict[str, Any]) -> str:
    """The id of an event without a file position: a hash of its content minus processing-time fields."""
    content = {k: v for k, v in event.items() if k not in CONTENT_EXCLUDED}
    try:
        data = orjson.dumps(content, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=_plain)
    except TypeError:
        # orjson refuses integers beyond 64 bits and mixed-type keys; the stdlib is slower but total.
        try:
            data = json.dumps(content, sort_keys=True, default=_plain).encode()
        except (TypeError, ValueError):
            data = repr(content).encode()
    return _digest(b"content:" + data)


def _plain(value: Any) -> Any:
    """JSON stand-ins for what an undecoded event may still hold (``@raw`` bytes, sets …)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, set | frozenset):
        return sorted(map(repr, value))
    return repr(value)


class AssignIdConfig(BaseModel):
    """``[processors.assign_id]`` has no options; the section exists for uniformity."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class AssignId:
    """Sets ``event.id`` (file identity + offset, else content) and pops ``@source_id``."""

    name = "assign_id"
    reads: tuple[str, ...] = (SOURCE_ID, OFFSET)
    writes: tuple[str, ...] = (EVENT_ID,)
    compiled = True

    Config = AssignIdConfig

    def __init__(self, config: AssignIdConfig | None = None) -> None:
        self.config = config or AssignIdConfig()

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        source_id = event.pop(SOURCE_ID, None)
        offset = event.get(OFFSET)
        if type(source_id) is str and source_id and source_id != STDIN_SOURCE_ID and type(offset) is int:
            event[EVENT_ID] = event_id(source_id, offset)
        else:
            event[EVENT_ID] = content_event_id(event)
        return event
