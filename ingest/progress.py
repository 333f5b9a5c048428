"""What a run has done so far, and how it is shown while it runs.

On a terminal one status line is redrawn every second (``terminal_progress``). Off a terminal (a
service, a log file, ``run`` under systemd) a line is written every ``LogProgress.interval``
seconds with the rate since the previous line, not the average since the start: after an hour of
tailing, the average says nothing about the last minute.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TextIO


@dataclass
class RunStats:
    lines: int = 0
    bytes: int = 0
    written: int = 0
    batches: int = 0
    started: float = field(default_factory=time.monotonic)


class Behind(Protocol):
    """What progress reads of a source."""

    def bytes_behind(self) -> dict[str, int]: ...


def _files_open(source: Behind, behind: dict[str, int]) -> int:
    """Files the source holds open (the file source counts them; ``bytes_behind`` is per input there), else
    one per entry of ``bytes_behind``."""
    return int(getattr(source, "files_open", len(behind)))


def terminal_progress(stats: RunStats, source: Behind) -> None:
    """One status line on stderr, redrawn: lines/s, MB read, files open, bytes still behind."""
    elapsed = max(time.monotonic() - stats.started, 1e-9)
    behind = source.bytes_behind()
    files_open = _files_open(source, behind)
    sys.stderr.write(
        f"\r{stats.lines:,} lines  {stats.lines / elapsed:,.0f} lines/s  {stats.bytes / 1e6:,.1f} MB  "
        f"{files_open} files open  {sum(behind.values()) / 1e6:,.1f} MB behind  "
        f"{stats.written:,} written   "
    )
    sys.stderr.flush()


class LogProgress:
    """A progress line every ``interval`` seconds, for a run whose stderr is not a terminal.

    ``report`` is called on every turn of the pipeline's loop and writes only when the interval has
    passed (``clock`` is injectable, so tests need not wait).
    """

    def __init__(
        self,
        interval: float = 10.0,
        *,
        out: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._out = out
        self._clock = clock
        self._last: tuple[float, int, int] | None = None
        """When the last line was written, and the lines read and events written then."""

    def report(self, stats: RunStats, source: Behind) -> str | None:
        """The line written now, or None when the interval has not passed."""
        now = self._clock()
        if self._last is None:
            self._last = (stats.started, 0, 0)
        since, lines_then, written_then = self._last
        elapsed = now - since
        if elapsed < self.interval:
            return None
        self._last = (now, stats.lines, stats.written)
        behind = source.bytes_behind()
        files_open = _files_open(source, behind)
        line = (
            f"logferry: {stats.lines:,} lines read, {(stats.lines - lines_then) / elapsed:,.0f} lines/s now; "
            f"{stats.written:,} events written, {(stats.written - written_then) / elapsed:,.0f}/s; "
            f"{files_open} files open, {sum(behind.values()) / 1e6:,.1f} MB behind"
        )
        out = self._out if self._out is not None else sys.stderr
        out.write(line + "\n")
        out.flush()
        return line
