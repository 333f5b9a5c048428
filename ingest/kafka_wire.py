"""The Kafka wire format between shippers and indexers: raw lines with their source metadata.

Shippers send each line exactly as read, not the processed event: parse rules live in the indexers,
which are redeployed centrally, so a parser fix needs no shipper rollout and can be replayed from the
topic. A record is

- value: the raw line bytes (possibly invalid UTF-8; decoding is the indexer's job),
- key: the ``@source_id`` (one file's lines land in one partition, in order),
- headers: ``source_id``, ``path`` (``log.file.path``), ``offset`` (decimal ``log.offset``),
  ``host`` (the shipper's host name), and ``tags`` (comma-separated, only when the source set any).

The indexer rebuilds the initial event the file source would have made on the shipper, so ``event.id``
(source id + offset) and every field equal what the embedded path stores for the same line. The
shipper's host name travels under the internal key ``@shipper_host`` rather than ``host.name``:
``decode_json`` lets source metadata win over the line's own keys, so a ``host.name`` set before
decoding would override a host the application logged itself, unlike the embedded path where
``add_metadata`` only fills in a missing host. ``RestoreShipperHost`` runs just before ``add_metadata``
and does what ``add_metadata`` does on the shipper.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict

from core.chunk import Lines
from core.keys import RAW, SOURCE_ID

SHIPPER_HOST = "@shipper_host"
HOST_NAME = "host.name"
NO_METADATA_TAG = "_kafkanometadata"

H_SOURCE_ID = "source_id"
H_PATH = "path"
H_OFFSET = "offset"
H_HOST = "host"
H_TAGS = "tags"

Header = tuple[str, bytes]
Headers = list[Header]


def encode_text(text: str) -> bytes:
    # File names need not be UTF-8; the file source hands them with surrogate escapes.
    return text.encode("utf-8", "surrogateescape")


def _decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def record_headers(event: dict[str, Any], host: bytes, extra_tags: Iterable[str] = ()) -> Headers:
    """The headers of the record that carries this initial event's line."""
    headers: Headers = [
        (H_SOURCE_ID, encode_text(event[SOURCE_ID])),
        (H_OFFSET, str(event["log.offset"]).encode("ascii")),
        (H_HOST, host),
    ]
    path = event.get("log.file.path")
    if path is not None:
        headers.append((H_PATH, encode_text(path)))
    tags = list(event.get("tags") or ())
    for tag in extra_tags:
        if tag not in tags:
            tags.append(tag)
    if tags:
        headers.append((H_TAGS, ",".join(tags).encode("utf-8")))
    return headers


def event_from_record(
    value: bytes | None, headers: Iterable[tuple[str, bytes]] | None, topic: str, partition: int, offset: int
) -> dict[str, Any]:
    """The initial event the shipper's file source made, rebuilt from one record.

    A record without logferry's headers (another producer wrote to the topic) still becomes an event:
    its position in the topic stands in for the file position, so its id is stable across replays,
    and it is tagged ``_kafkanometadata``. ``headers`` is None for a record without any (librdkafka).
    """
    found = dict(headers) if headers else {}
    raw = value if value is not None else b""
    source_id, line_offset = found.get(H_SOURCE_ID), found.get(H_OFFSET)
    tags = [t for t in _decode(found[H_TAGS]).split(",") if t] if H_TAGS in found else []
    if source_id is not None and line_offset is not None and line_offset.isdigit():
        event: dict[str, Any] = {RAW: raw, SOURCE_ID: _decode(source_id)}
        position = int(line_offset)
    else:
        event = {RAW: raw, SOURCE_ID: f"kafka:{topic}:{partition}"}
        position = offset
        tags.append(NO_METADATA_TAG)
    path = found.get(H_PATH)
    if path is not None:
        event["log.file.path"] = _decode(path)
    event["log.offset"] = position  # after the path, as the file source orders them: the same document
    host = found.get(H_HOST)
    if host is not None:
        event[SHIPPER_HOST] = _decode(host)
    if tags:
        event["tags"] = tags
    return event


class ShippedLines(Lines):
    """Consecutive records of one shipper's file: plain lines back to back, as the file source hands them.

    The indexer's compiled chain takes them as one block (``ingest.native_chain``) with the
    shipper's ``host``; a line's event, for the Python chain, carries it as ``@shipper_host``.
    """

    __slots__ = ("host",)

    def __init__(self, lines: list[bytes], source_id: str, path: str, first_offset: int, host: str) -> None:
        super().__init__(lines, source_id, path, first_offset)
        self.host = host

    def event(self, index: int) -> dict[str, Any]:
        event = super().event(index)
        event[SHIPPER_HOST] = self.host
        return event


PlainLine = tuple[bytes, bytes, bytes, int]
"""A plain line's file (source id, host, path headers) and its offset in that file."""

_PLAIN_HEADERS = (H_SOURCE_ID, H_OFFSET, H_HOST, H_PATH)


def plain_line(headers: list[tuple[str, bytes]] | None) -> PlainLine | None:
    """The file and offset of a record whose headers are exactly a shipper's for an untagged file line
    (``record_headers`` without tags); None for anything else, which ``event_from_record`` rebuilds."""
    if headers is None or len(headers) != 4:
        return None
    (source_name, source_id), (offset_name, offset), (host_name, host), (path_name, path) = headers
    if (source_name, offset_name, host_name, path_name) != _PLAIN_HEADERS or not offset.isdigit():
        return None
    return source_id, host, path, int(offset)


class RestoreShipperHost:
    """Indexer-only step: the shipper's host becomes ``host.name`` where ``add_metadata`` would add one.

    With ``fill=False`` (no ``add_metadata`` in the chain) it only removes the internal key.
    """

    name = "restore_shipper_host"
    reads: tuple[str, ...] = (SHIPPER_HOST, HOST_NAME, "host")
    writes: tuple[str, ...] = (HOST_NAME,)
    compiled = True

    class Config(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")

        fill: bool = True

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or self.Config()
        self.fill = self.config.fill

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        host = event.pop(SHIPPER_HOST, None)
        if host is None or not self.fill or HOST_NAME in event:
            return event
        own = event.get("host")
        if type(own) is dict and "name" in own:
            return event
        event[HOST_NAME] = host
        return event
