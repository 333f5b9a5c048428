"""Sans-IO batching: events in, bounded batches out; each event serialized exactly once.

A batch is cut by count, bytes or age, whichever comes first. It also carries the source positions
reached by the events it holds, so the registry advances only when the sink acknowledged the batch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from core.chunk import Position
from ingest.config import BatchConfig
from ingest.document import serialize


@dataclass
class Batch:
    events: list[dict[str, Any]] = field(default_factory=list)
    docs: list[bytes] = field(default_factory=list)
    positions: dict[Position, int] = field(default_factory=dict)
    nbytes: int = 0
    started: float = field(default_factory=time.monotonic)

    def __len__(self) -> int:
        return len(self.docs)


class Batcher:
    """``feed`` / ``mark`` / ``flush``; the caller does all I/O with the batches it gets back."""

    def __init__(self, config: BatchConfig, serializer: Callable[[dict[str, Any]], bytes] = serialize) -> None:
        self.serialize = serializer
        self.max_events = config.max_events
        self.max_bytes = config.max_bytes
        self.max_age = config.max_age
        self._batch = Batch()

    def feed(self, event: dict[str, Any]) -> Batch | None:
        """Serialize and add one event; returns the batch when it is full."""
        return self.feed_serialized(self.serialize(event), event)

    def feed_serialized(self, doc: bytes, event: dict[str, Any]) -> Batch | None:
        """Add a document serialized elsewhere (the compiled chain) with the event fields sinks read."""
        b = self._batch
        b.events.append(event)
        b.docs.append(doc)
        b.nbytes += len(doc) + 1
        if len(b.docs) >= self.max_events or b.nbytes >= self.max_bytes:
            return self._cut()
        return None

    def mark(self, position: Position, offset: int) -> None:
        """Lines up to ``offset`` of a source have been fed (or dropped): ack them with this batch."""
        self._batch.positions[position] = offset

    def due(self) -> Batch | None:
        """The batch, if it has waited ``max_age``: a trickle is flushed at least that often."""
        b = self._batch
        if (b.docs or b.positions) and time.monotonic() - b.started >= self.max_age:
            return self._cut()
        return None

    def flush(self) -> Batch | None:
        b = self._batch
        return self._cut() if b.docs or b.positions else None

    def _cut(self) -> Batch:
        b, self._batch = self._batch, Batch()
        return b
