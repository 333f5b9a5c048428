"""Sans-IO batching: events in, bounded batches out; each event serialized exactly once.

The compiled chain's documents come in runs (``feed_compiled``): whole list slices, cut where feeding
them one at a time would cut them, so no Python runs per line.

A batch is cut by count, bytes or age, whichever comes first. It also carries the source positions
reached by the events it holds, so the registry advances only when the sink acknowledged the batch.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable
from itertools import accumulate
from typing import Any, Literal

from core.chunk import Position
from ingest.config import BatchConfig
from ingest.document import serialize


class Batch:
    """Documents for one write, the events sinks read beside them, and the positions they reach.

    ``events[i]`` is what a sink reads of document ``i`` (``@timestamp``, ``event.id``, ``tags``).
    For lines of the compiled chain those fields arrive as parallel lists (``feed_compiled``); their
    events are made on first access to ``events``, so a sink that never reads them never pays.
    """

    __slots__ = ("_events", "_fed", "_compiled", "_runs_made", "docs", "positions", "marks", "nbytes", "started")

    def __init__(
        self,
        events: list[dict[str, Any]] | None = None,
        docs: list[bytes] | None = None,
        positions: dict[Position, int] | None = None,
        nbytes: int = 0,
        started: float | None = None,
    ) -> None:
        self._events: list[dict[str, Any] | None] = list(events) if events is not None else []
        self._fed: list[dict[str, Any]] = list(events) if events is not None else []
        """The events given whole (not by the compiled chain), in order."""
        self._compiled: list[tuple[int, list[str], list[str], list[tuple[str, ...] | None]]] = []
        """Runs of compiled lines: (index of the first, their timestamps, event ids, tags or None)."""
        self._runs_made = 0
        """How many runs have their events made (``events``)."""
        self.docs = docs if docs is not None else []
        self.positions = positions if positions is not None else {}
        self.marks: list[tuple[int, Position, int]] = []
        """Each ``mark`` in order: how many documents preceded it, the position and its offset. The
        documents since the previous mark are the lines of the block that reaches that offset; those
        after the last mark belong to a block whose mark a later batch carries."""
        self.nbytes = nbytes
        self.started = time.monotonic() if started is None else started

    def __len__(self) -> int:
        return len(self.docs)

    @property
    def marked(self) -> int:
        """How many documents the batch's positions cover (all of them for a batch made with
        ``positions`` and no marks, as tests make them)."""
        if self.marks:
            return self.marks[-1][0]
        return len(self.docs) if self.positions else 0

    @property
    def events(self) -> list[dict[str, Any]]:
        if self._runs_made < len(self._compiled):
            events = self._events
            for first, stamps, ids, tags in self._compiled[self._runs_made :]:
                for i, (stamp, event_id, line_tags) in enumerate(zip(stamps, ids, tags, strict=True), first):
                    stub: dict[str, Any] = {"@timestamp": stamp, "event.id": event_id}
                    if line_tags:
                        stub["tags"] = list(line_tags)
                    events[i] = stub
            self._runs_made = len(self._compiled)
        return self._events  # type: ignore[return-value]  # every None was filled above

    def timestamps(self) -> list[Any]:
        """Each document's ``@timestamp`` (None where it has none), without making the events of
        compiled lines: all a sink that partitions by day reads."""
        return self._column("@timestamp", 1)

    def event_ids(self) -> list[Any]:
        """Each document's ``event.id`` (None where it has none), without making the events of
        compiled lines: what a sink that names documents by id reads."""
        return self._column("event.id", 2)

    def _column(self, key: str, run_field: Literal[1, 2]) -> list[Any]:
        """``key`` of every event given whole, and field ``run_field`` of each compiled run in place."""
        values = [None if event is None else event.get(key) for event in self._events]
        for run in self._compiled:
            first, run_values = run[0], run[run_field]
            values[first : first + len(run_values)] = run_values
        return values

    def tag_counts(self) -> Counter[str]:
        """How many events carry each string tag (a source line's ``tags`` may be a number or hold
        objects). Compiled lines are counted by their distinct tag tuples, not one by one."""
        counts: Counter[str] = Counter()
        for event in self._fed:
            tags = event.get("tags")
            if type(tags) is str:
                counts[tags] += 1
            elif type(tags) is list:
                counts.update(t for t in tags if type(t) is str)
        for _, _, _, tags_of_run in self._compiled:
            for line_tags, lines in Counter(filter(None, tags_of_run)).items():
                for tag in line_tags:
                    counts[tag] += lines
        return counts


class Batcher:
    """``feed`` / ``mark`` / ``flush``; the caller does all I/O with the batches it gets back.

    ``clock`` (monotonic seconds) dates each batch for ``due``; tests pass one they move themselves.
    """

    def __init__(
        self,
        config: BatchConfig,
        serializer: Callable[[dict[str, Any]], bytes] = serialize,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.serialize = serializer
        self.max_events = config.max_events
        self.max_bytes = config.max_bytes
        self.max_age = config.max_age
        self._clock = clock
        self._batch = Batch(started=clock())

    def feed(self, event: dict[str, Any]) -> Batch | None:
        """Serialize and add one event; returns the batch when it is full."""
        return self.feed_serialized(self.serialize(event), event)

    def feed_serialized(self, doc: bytes, event: dict[str, Any]) -> Batch | None:
        """Add a document serialized elsewhere (the compiled chain) with the event fields sinks read."""
        b = self._batch
        b._events.append(event)
        b._fed.append(event)
        b.docs.append(doc)
        b.nbytes += len(doc) + 1
        if len(b.docs) >= self.max_events or b.nbytes >= self.max_bytes:
            return self._cut()
        return None

    def feed_compiled(
        self, docs: list[bytes], stamps: list[str], ids: list[str], tags: list[tuple[str, ...] | None]
    ) -> list[Batch]:
        """Add a run of documents the compiled chain wrote, with what sinks read of each (a line's
        tags: a tuple, or None); returns the batches it filled, cut exactly where feeding them one by
        one would have cut them."""
        full: list[Batch] = []
        count = len(docs)
        ends = list(accumulate(map(len, docs), initial=0))  # ends[k] + k: bytes of the first k docs

        def size(k: int) -> int:
            return ends[k] + k

        start = 0
        while start < count:
            b = self._batch
            stop = min(count, start + self.max_events - len(b.docs))
            # The first k whose bytes reach max_bytes, counted from this batch's start.
            target = self.max_bytes - b.nbytes + size(start)
            k = bisect_left(range(count + 1), target, start + 1, stop + 1, key=size)
            cut = k <= stop
            stop = min(stop, k)
            b._compiled.append((len(b.docs), stamps[start:stop], ids[start:stop], tags[start:stop]))
            b._events.extend([None] * (stop - start))
            b.docs.extend(docs[start:stop])
            b.nbytes += size(stop) - size(start)
            if cut or len(b.docs) >= self.max_events:
                full.append(self._cut())
            start = stop
        return full

    def mark(self, position: Position, offset: int) -> None:
        """Lines up to ``offset`` of a source have been fed (or dropped): ack them with this batch."""
        self._batch.positions[position] = offset
        self._batch.marks.append((len(self._batch.docs), position, offset))

    def due(self) -> Batch | None:
        """The batch, if it has waited ``max_age``: a trickle is flushed at least that often."""
        b = self._batch
        if (b.docs or b.positions) and self._clock() - b.started >= self.max_age:
            return self._cut()
        return None

    def flush(self) -> Batch | None:
        b = self._batch
        return self._cut() if b.docs or b.positions else None

    def _cut(self) -> Batch:
        b, self._batch = self._batch, Batch(started=self._clock())
        return b
