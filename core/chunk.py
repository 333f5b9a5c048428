"""What a source hands the pipeline: complete lines, and the position they reach.

A file source's block of plain lines travels as :class:`Lines`: the bytes as ``split(b"\\n")`` left
them and what they share (source id, path, first offset), not one dict per line. Events (dicts) are
made only where something needs them: the Python chain, a line the compiled chain declines, a test.
Other sources (stdin, Kafka) hand a list of events.
"""

from __future__ import annotations

from itertools import accumulate
from typing import Any

from core.keys import RAW, SOURCE_ID

Position = tuple[str, str]
"""Where a source's offsets count: a file's (key, generation) or a Kafka (topic, partition)."""


def file_event(line: bytes, source_id: str, path: str, offset: int) -> dict[str, Any]:
    """A file line as the source event the processors take; its key order is the documents' order."""
    return {RAW: line, SOURCE_ID: source_id, "log.file.path": path, "log.offset": offset}


class Lines:
    """Plain lines of one file generation, back to back from ``first_offset``.

    Line ``i`` starts at ``first_offset`` plus the lengths of the lines before it, each + 1 (its
    newline). A line read apart (cut at ``max_line_bytes``, the rest of a partial line) has its
    event in ``special`` under its index; it stands in for the plain event of that line.
    """

    __slots__ = ("lines", "source_id", "path", "first_offset", "special", "_starts")

    def __init__(
        self,
        lines: list[bytes],
        source_id: str,
        path: str,
        first_offset: int,
        special: dict[int, dict[str, Any]] | None = None,
    ) -> None:
        self.lines = lines
        self.source_id = source_id
        self.path = path
        self.first_offset = first_offset
        self.special = special if special is not None else {}
        self._starts: list[int] | None = None

    def __len__(self) -> int:
        return len(self.lines)

    def offset(self, index: int) -> int:
        """Where line ``index`` starts; the first call sums the lengths of the whole block, in C."""
        if self._starts is None:
            self._starts = list(accumulate(map(len, self.lines), initial=self.first_offset))
        return self._starts[index] + index

    def event(self, index: int) -> dict[str, Any]:
        """Line ``index`` as the source event the processors take (its own event if read apart)."""
        special = self.special.get(index)
        if special is not None:
            return special
        return file_event(self.lines[index], self.source_id, self.path, self.offset(index))

    def events(self) -> list[dict[str, Any]]:
        return [self.event(i) for i in range(len(self.lines))]


class Chunk:
    """Complete lines read from one source and the offset they reach: a list of events, or ``Lines``."""

    __slots__ = ("position", "_events", "lines", "end_offset", "nbytes")

    def __init__(
        self,
        position: Position,
        events: list[dict[str, Any]] | None,
        end_offset: int,
        nbytes: int,
        lines: Lines | None = None,
    ) -> None:
        self.position = position
        self._events = events
        self.lines = lines
        self.end_offset = end_offset
        self.nbytes = nbytes

    @classmethod
    def of_lines(cls, position: Position, lines: Lines, end_offset: int, nbytes: int) -> Chunk:
        return cls(position, None, end_offset, nbytes, lines)

    @property
    def events(self) -> list[dict[str, Any]]:
        """The lines as source events, made (once) on first use when the chunk holds ``Lines``."""
        if self._events is None:
            self._events = self.lines.events() if self.lines is not None else []
        return self._events

    @property
    def count(self) -> int:
        """How many lines, without making their events."""
        if self._events is None and self.lines is not None:
            return len(self.lines)
        return len(self.events)

    def __repr__(self) -> str:
        return f"Chunk({self.position!r}, {self.count} lines, end_offset={self.end_offset}, nbytes={self.nbytes})"
