"""The local dead-letter store: one NDJSON record per event a sink refused, with the reason.

Records are appended and fsynced before the registry moves past the events, so a refused event is
never lost: it is either in the sink, here, or still ahead of the registry offset. An append that
fails part-way (disk full, short write) is cut back to the file's previous end, so the file only
ever holds whole records, and raises a retriable error: the batch is retried, its offsets stay.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

import orjson

from core.errors import SinkUnavailable
from core.timefmt import iso_ms
from ingest.registry import write_all


class DeadLetterUnavailable(SinkUnavailable):
    """The dead-letter file cannot be appended to now (disk full, I/O error); retry later."""


class DeadLetterFile:
    """Appends are serialized: the Elasticsearch sink writes batches from more than one thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def write(self, sink: str, records: list[tuple[str, bytes]]) -> None:
        """Append ``(reason, shipped document)`` pairs; the document is kept verbatim as JSON."""
        if not records:
            return
        now = iso_ms(dt.datetime.now(dt.UTC))
        lines = []
        for reason, doc in records:
            event = orjson.Fragment(doc) if doc[:1] == b"{" else doc.decode("utf-8", "replace")
            lines.append(orjson.dumps({"@timestamp": now, "sink": sink, "reason": reason, "event": event}))
        data = b"\n".join(lines) + b"\n"
        try:
            with self._lock:
                self._append(data)
        except OSError as exc:
            raise DeadLetterUnavailable(
                f"cannot append {len(records)} record(s) to the dead-letter file {self.path}: {exc.strerror or exc}"
            ) from None

    def _append(self, data: bytes) -> None:
        """Append ``data`` whole and fsync, or leave the file as it was."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            end = os.fstat(fd).st_size
            try:
                write_all(fd, data)
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, end)
                raise
        finally:
            os.close(fd)
