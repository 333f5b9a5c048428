"""Standard input as a source: ``logferry ingest -``."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, BinaryIO

from core.chunk import Chunk, Position
from core.keys import RAW, SOURCE_ID
from core.outcomes import TRUNCATED, EventCounts
from core.tags import TRUNCATED_TAG


class StdinSource:
    """``logferry ingest -``: lines from standard input; the end of input ends the stream.

    An unterminated line is held only up to ``max_line_bytes`` (the rest is counted, not kept), so a
    stream without newlines cannot exhaust memory; the line is cut and tagged ``_truncated``.
    """

    def __init__(self, stream: BinaryIO, max_line_bytes: int, read_bytes: int = 1 << 20) -> None:
        self.stream = stream
        self.max_line = max_line_bytes
        self.counts = EventCounts()
        self.read_bytes = read_bytes
        self.offset = 0
        self.pending = b""
        self.pending_len = 0
        self.finished = False

    def poll(self, budget_bytes: int = 8 << 20) -> Iterator[Chunk]:
        read = 0
        while not self.finished and read < budget_bytes:
            data = self.stream.read(self.read_bytes)
            if not data:
                self.finished = True
                if self.pending_len:
                    yield Chunk(("stdin", "stdin"), [self._event(self.pending, self.offset, self.pending_len)], 0, 0)
                    self.pending, self.pending_len = b"", 0
                return
            read += len(data)
            parts = data.split(b"\n")
            tail = parts.pop()
            events = []
            if parts and self.pending_len:
                first = parts.pop(0)
                events.append(self._event(self._held(first), self.offset, self.pending_len + len(first)))
                self.offset += self.pending_len + len(first) + 1
                self.pending, self.pending_len = b"", 0
            for line in parts:
                events.append(self._event(line, self.offset, len(line)))
                self.offset += len(line) + 1
            self.pending, self.pending_len = self._held(tail), self.pending_len + len(tail)
            yield Chunk(("stdin", "stdin"), events, 0, len(data))

    def _held(self, more: bytes) -> bytes:
        """The pending line with ``more`` appended, kept to at most ``max_line`` bytes."""
        room = self.max_line - len(self.pending)
        return self.pending + more[:room] if room > 0 else self.pending

    def _event(self, line: bytes, offset: int, length: int) -> dict[str, Any]:
        # The id comes from the content and the position: a replay of the same stream coincides, two
        # streams do not overwrite each other, and two equal lines of one stream stay two events.
        kept = line[: self.max_line]
        content = line if length == len(line) else kept + b"\0%d" % length
        source_id = "stdin:" + hashlib.blake2b(content, digest_size=8).hexdigest()
        event: dict[str, Any] = {RAW: kept, SOURCE_ID: source_id, "log.offset": offset}
        if length > self.max_line:
            event["tags"] = [TRUNCATED_TAG]
            self.counts.add(TRUNCATED, "max_line_bytes")
        return event

    def bytes_behind(self) -> dict[str, int]:
        return {}

    def ack(self, positions: dict[Position, int]) -> None:
        """Standard input cannot be re-read: there is nothing to persist."""

    def rereads(self, position: Position) -> tuple[int, int] | None:
        """Standard input is never read again: a sink keeps everything it stored."""
        return None

    def done(self) -> bool:
        return self.finished

    def close(self) -> None:
        return None
