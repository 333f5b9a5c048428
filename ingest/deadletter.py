"""The local dead-letter store: one NDJSON record per event a sink refused, with the reason.

Records are appended and fsynced before the registry moves past the events, so a refused event is
never lost: it is either in the sink, here, or still ahead of the registry offset.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import orjson


class DeadLetterFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def write(self, sink: str, records: list[tuple[str, bytes]]) -> None:
        """Append ``(reason, shipped document)`` pairs; the document is kept verbatim as JSON."""
        if not records:
            return
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        lines = []
        for reason, doc in records:
            event = orjson.Fragment(doc) if doc[:1] == b"{" else doc.decode("utf-8", "replace")
            lines.append(orjson.dumps({"@timestamp": now, "sink": sink, "reason": reason, "event": event}))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, b"\n".join(lines) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
