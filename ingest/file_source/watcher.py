"""The file watcher: one open file read by descriptor, framed into complete lines.

It reads by ``pread`` on the descriptor it holds, so a rename or a delete does not matter while it is
open. Lines are yielded as ``core.chunk.Lines`` (one block per read: the lines, their file's source
id, path and first offset), with the offset up to which they are complete; a line longer than
``max_line_bytes`` is cut and tagged ``_truncated``, the rest of a line shipped unterminated earlier
(``cut_at``) is tagged ``_partial``.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from core.chunk import Chunk, Lines, Position, file_event
from core.outcomes import TRUNCATED, EventCounts
from core.tags import TRUNCATED_TAG
from ingest.file_source.fingerprint import (
    EMPTY_DIGEST,
    FINGERPRINT_MAX,
    block_before,
    checkpoint,
    digest,
    grow_fingerprint,
    head_matches,
    source_id,
)
from ingest.registry import FileState

PARTIAL_TAG = "_partial"


class Truncated:
    """What ``Watcher.read`` returns when the file is no longer the generation being read."""


TRUNCATED_FILE = Truncated()


@dataclass
class Watcher:
    """One open file being read line by line, by descriptor (``fd``), so a rename or delete does not matter.

    ``size`` is the file's size when last looked at (a read, a check): a watcher whose ``read_pos``
    reached it is at its end until a check finds it grown. ``moved`` says the file was seen under
    another name since it was opened (renamed away: its writer has moved on).
    """

    key: str
    path: str
    file: BinaryIO
    fd: int
    state: FileState
    read_pos: int
    line_start: int
    input: int = 0
    size: int = 0
    pending: bytes = b""
    skipping: bool = False
    moved: bool = False
    last_growth: float = field(default_factory=time.monotonic)
    prefetched: bytes | None = None
    began: int = 0
    """Where this process began reading it."""

    @property
    def position(self) -> Position:
        return (self.key, self.state.source_id)

    @property
    def at_end(self) -> bool:
        """Read as far as the file was long when last looked at (a file found shorter is read, to see it
        was truncated)."""
        return self.read_pos == self.size

    def read(self, read_bytes: int, max_line: int, counts: EventCounts) -> Chunk | Truncated | None:
        """The complete lines of the next block; None at the end of the file; ``TRUNCATED_FILE`` when
        the file was truncated or rewritten (shorter than read, or other first bytes): the block is
        dropped, so old and new content are never spliced into one line."""
        data = self.prefetched
        if data is not None:  # read whole when opened, just after its size and first bytes were taken
            self.prefetched = None
        else:
            data = os.pread(self.fd, read_bytes, self.read_pos)
            if not self._unchanged(len(data)):
                return TRUNCATED_FILE
        if not data:
            return None
        state = self.state
        if self.read_pos == 0 and state.source_id == source_id(self.key, EMPTY_DIGEST, state.generation):
            # Begun empty (truncated, nothing written yet): an id from no bytes would be the same for every
            # such generation, and generation numbers start again when a registry entry is gone.
            state.source_id = source_id(self.key, digest(data[:FINGERPRINT_MAX]), state.generation)
        self.last_growth = time.monotonic()
        self.read_pos += len(data)
        continued = state.cut_at == self.line_start and not self.skipping
        read_from, line_from = self.read_pos - len(data), self.line_start
        head: dict[str, Any] | None = None
        if self.skipping:
            nl = data.find(b"\n")
            if nl < 0:
                return Chunk(self.position, [], self.line_start, len(data))
            head = self.event(self.pending, self.line_start, (TRUNCATED_TAG,), counts)
            self.line_start = self.read_pos - len(data) + nl + 1
            self.pending, self.skipping = b"", False
            data = data[nl + 1 :]
        buf = self.pending + data if self.pending else data
        parts = buf.split(b"\n")
        tail = parts.pop()
        lines = Lines(parts, state.source_id, self.path, self.line_start)
        if len(buf) > max_line and parts and max(map(len, parts)) > max_line:
            for i, line in enumerate(parts):
                if len(line) > max_line:
                    lines.special[i] = self.event(line[:max_line], lines.offset(i), (TRUNCATED_TAG,), counts)
        if continued and parts:
            rest = lines.event(0)
            rest.setdefault("tags", []).append(PARTIAL_TAG)
            lines.special[0] = rest
        offset = self.line_start + len(buf) - len(tail)
        cut = state.cut_at
        if cut is not None and line_from < cut < offset and parts:
            head_events = [head] if head is not None else []
            self.line_start = offset
            self._keep_tail(tail, max_line)
            self._check_block(data, read_from, line_from, offset)
            return Chunk(self.position, head_events + self._split_at_cut(lines, cut, counts), offset, len(data))
        self.line_start = offset
        self._keep_tail(tail, max_line)
        self._check_block(data, read_from, line_from, offset)
        if head is not None:  # the end of a line cut across reads: rare, as plain events
            return Chunk(self.position, [head, *lines.events()], self.line_start, len(data))
        return Chunk.of_lines(self.position, lines, self.line_start, len(data))

    def _keep_tail(self, tail: bytes, max_line: int) -> None:
        """The unterminated rest of a block waits for its newline (cut to ``max_line`` bytes)."""
        if len(tail) > max_line:
            self.pending, self.skipping = tail[:max_line], True
        else:
            self.pending = tail

    def _check_block(self, data: bytes, read_from: int, line_from: int, offset: int) -> None:
        """Record the check of the 1 KiB before ``offset``, the end of the complete lines read."""
        if offset > line_from:
            low = max(0, offset - FINGERPRINT_MAX)
            block = data[low - read_from : offset - read_from] if low >= read_from else block_before(self.fd, offset)
            checkpoint(self.state, offset, block)

    def _split_at_cut(self, lines: Lines, cut: int, counts: EventCounts) -> list[dict[str, Any]]:
        """Lines read again from before a cut (the registry's offset lagged behind ``cut_at`` at a crash):
        the line holding the cut is shipped as it was the first time, its fragment up to the cut and
        the rest after it, both tagged ``_partial``, with the same offsets (hence event ids)."""
        events = []
        for i in range(len(lines)):
            start, line = lines.offset(i), lines.lines[i]
            if start < cut < start + len(line) + 1:
                split = cut - start
                events.append(self.event(line[:split], start, (PARTIAL_TAG,), counts))
                events.append(self.event(line[split:], cut, (PARTIAL_TAG,), counts))
            else:
                events.append(lines.event(i))
        return events

    def _unchanged(self, got: int) -> bool:
        """Is this still the generation being read: as long as read so far, with the same first bytes?

        While the fingerprint covers less than 1 KiB it grows with the file.
        """
        try:
            size = os.fstat(self.fd).st_size
            self.size = size
            if size < self.read_pos + got:
                return False
            if not got:
                return True
            head = os.pread(self.fd, FINGERPRINT_MAX, 0)
        except OSError:
            return True
        if not head_matches(head, self.state):
            return False
        grow_fingerprint(self.state, head)
        return True

    def unterminated(self, counts: EventCounts) -> Chunk:
        """The unterminated last line as one event tagged ``_partial`` (and ``_truncated`` if cut); the
        offset moves past it and the cut is remembered, so a completion is shipped once, as the rest."""
        tags = (PARTIAL_TAG, TRUNCATED_TAG) if self.skipping else (PARTIAL_TAG,)
        chunk = Chunk(self.position, [self.event(self.pending, self.line_start, tags, counts)], self.read_pos, 0)
        self.state.cut_at = self.line_start = self.read_pos
        self.pending, self.skipping = b"", False
        return chunk

    def event(
        self, line: bytes, offset: int, tags: tuple[str, ...] = (), counts: EventCounts | None = None
    ) -> dict[str, Any]:
        """A line read apart from the plain ones (cut or partial), counted when it was cut."""
        event = file_event(line, self.state.source_id, self.path, offset)
        if tags:
            event["tags"] = list(tags)
            if TRUNCATED_TAG in tags and counts is not None:
                counts.add(TRUNCATED, "max_line_bytes")
        return event

    def close(self) -> None:
        self.file.close()
