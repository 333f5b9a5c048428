"""The whole path, top to bottom: source → processors → batcher → sink → acknowledge the source.

Everything here is the glue; each stage does one job in its own module. Delivery is at-least-once:
the source's positions (registry offsets, Kafka offsets) advance only after the sink accepted the
batch that holds the events up to them, and event ids are deterministic, so a replay is idempotent.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from core import metrics
from core.chunk import Chunk, Lines, Position
from core.errors import LogferryError
from core.event import Event, ProcessorFn
from core.outcomes import RETRIED, CountsEvents, EventCounts
from core.retry import RetryPolicy
from core.tags import add_tag
from ingest import native_chain
from ingest.batch import Batch, Batcher

log = logging.getLogger("logferry.pipeline")

PROCESSOR_ERROR_TAG = "_processorerror"
AHEAD = 2
"""Blocks of lines the compiled chain runs ahead of this thread, each on a thread of its own.

Measured on this 2-core machine, quiet (``bench.pipeline`` b, 200k lines, best of four runs): one block
ahead split over two threads per block 0.79 s; two blocks ahead on one thread each 0.61 s, at the
same CPU (1.0-1.1 s): the chain's threads never wait for this one, and no thread is started per block.
"""
WRITE_RETRY = RetryPolicy(initial=0.4, cap=30.0)
"""How the writer waits before trying a batch again that the sink could not take yet (core/retry.py)."""


class Source(Protocol):
    """Where lines come from. ``counts`` is what the source cut or otherwise changed, by reason."""

    @property
    def counts(self) -> EventCounts: ...

    def poll(self, budget_bytes: int = ...) -> Iterator[Chunk]: ...
    def ack(self, positions: dict[Position, int]) -> None: ...
    def bytes_behind(self) -> dict[str, int]: ...
    def done(self) -> bool: ...
    def close(self) -> None: ...


class Sink(Protocol):
    """Where batches go. ``counts`` is what the sink dead-lettered, truncated or retried, by reason.

    A sink may set ``concurrency`` (default 1) to have that many batches written at once, each from
    a writer thread of its own; its ``write`` must then be safe to call from them together.
    """

    name: str

    @property
    def counts(self) -> EventCounts: ...

    def write(self, batch: Batch) -> None:
        """Return when every event is durably accepted or dead-lettered; raise a retriable error if not."""

    def close(self) -> None: ...


@dataclass
class RunStats:
    lines: int = 0
    bytes: int = 0
    written: int = 0
    batches: int = 0
    started: float = field(default_factory=time.monotonic)


COLLECT_EVERY = 50_000
"""Container allocations between young-generation collections while a pipeline runs (CPython: 700)."""
_collector_lock = threading.Lock()
_collector_users = 0
_collector_saved: tuple[int, int, int] = (700, 10, 10)


@contextlib.contextmanager
def collector_tuned() -> Iterator[None]:
    """Freeze what exists at start and collect the young generation every ``COLLECT_EVERY`` allocations.

    Why: a run allocates containers in bulk (a block's result lists, the events of declined lines, the
    stubs a sink reads) that die within a batch, and no cycles among them. With CPython's default
    threshold (700) the collector ran hundreds of times per 200k lines, each walking what the batches
    in flight keep alive; and every full collection walked all of logferry's modules and config.
    Measured on bench.pipeline c (200k lines): 2.5 µs of CPU per line in the collector, 0.13 with this.
    Restored when the last running pipeline of the process ends (runs may overlap: tests, ``serve``).
    """
    global _collector_users, _collector_saved
    with _collector_lock:
        if _collector_users == 0:
            _collector_saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(COLLECT_EVERY, *_collector_saved[1:])
        _collector_users += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_users -= 1
            if _collector_users == 0:
                gc.set_threshold(*_collector_saved)
                gc.unfreeze()


class Interrupted(LogferryError):
    """Stopped while a batch could not be delivered; its events stay ahead of the source's positions."""


class Pipeline:
    """Runs one source through the processors into one sink, in batches, until told to stop."""

    def __init__(
        self,
        source: Source,
        processors: list[tuple[str, ProcessorFn]],
        batcher: Batcher,
        sink: Sink,
        *,
        idle_wait: float = 0.1,
        shutdown_grace: float = 10.0,
        progress: Callable[[RunStats, Source], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.source = source
        self.processors = processors
        self.native = native_chain.for_processors(processors, batcher.serialize)
        """The compiled chain when ``processors`` are the default chain (see ingest/native_chain.py)."""
        self.batcher = batcher
        self.sink = sink
        self.idle_wait = idle_wait
        self.shutdown_grace = shutdown_grace
        self.progress = progress
        self.stats = RunStats()
        self.stop = stop if stop is not None else threading.Event()
        self._counting_processors: list[tuple[str, CountsEvents]] = []
        for name, processor in processors:
            if isinstance(processor, CountsEvents):
                self._counting_processors.append((name, processor))
        self._exported: dict[tuple[str, str, str], int] = {}
        self._source_label = type(source).__name__
        self._writers = max(1, int(getattr(sink, "concurrency", 1)))
        self._outbox: queue.Queue[tuple[int, Batch] | None] = queue.Queue(maxsize=1)
        self._submitted = 0
        self._written: queue.SimpleQueue[tuple[int, Batch]] = queue.SimpleQueue()
        self._finished: dict[int, Batch] = {}
        self._acked = 0
        self._writers_quit = threading.Event()
        self._exporting = threading.Lock()
        self._writer_failure: BaseException | None = None
        self._ahead: ThreadPoolExecutor | None = None
        self._pending: collections.deque[tuple[Chunk, Future[native_chain.LinesResult]]] = collections.deque()

    def run(self, *, once: bool = False) -> RunStats:
        """Read → process → write until ``stop`` is set (or, with ``once``, until the source is drained).

        Processing runs on this thread and writing on the sink's ``concurrency`` writer threads, one
        batch ahead at most, so the sink's I/O (DuckDB's insert, an HTTP round trip) overlaps the next
        batch's parsing. The compiled chain runs ``AHEAD`` blocks of lines ahead, each on a thread of
        its own (see ``_consume``). Positions are acknowledged back on this thread, in batch order,
        because a Kafka consumer is not thread-safe.
        """
        with collector_tuned():
            return self._run(once)

    def _run(self, once: bool) -> RunStats:
        last_progress = time.monotonic()
        writers = [
            threading.Thread(target=self._write_loop, name=f"{self.sink.name}-writer-{n}", daemon=True)
            for n in range(self._writers)
        ]
        for writer in writers:
            writer.start()
        if self.native is not None:
            self._ahead = ThreadPoolExecutor(AHEAD, thread_name_prefix="compiled-chain")
        try:
            while not self.stop.is_set():
                got = False
                for chunk in self.source.poll():
                    got = True
                    self._consume(chunk)
                    if self.stop.is_set():
                        break
                self._finish_pending(0)
                batch = self.batcher.due()
                if batch is not None:
                    self._submit(batch)
                self._acknowledge()
                self._raise_writer_failure()
                if self.progress is not None and time.monotonic() - last_progress >= 1.0:
                    last_progress = time.monotonic()
                    self.progress(self.stats, self.source)
                if once and not got and self.source.done():
                    break
                if not got:
                    self.stop.wait(self.idle_wait)
            batch = self.batcher.flush()
            if batch is not None:
                self._submit(batch)
            for _ in writers:
                self._submit(None)
            for writer in writers:
                writer.join()
            self._acknowledge()
            self._raise_writer_failure()
        finally:
            if self._ahead is not None:
                self._ahead.shutdown(cancel_futures=True)
                self._ahead = None
                self._pending.clear()
            self._writers_quit.set()
            if any(writer.is_alive() for writer in writers):
                self.stop.set()
                deadline = time.monotonic() + self.shutdown_grace + 5
                for writer in writers:
                    writer.join(max(0.0, deadline - time.monotonic()))
            try:
                self.source.close()  # may fail (its registry cannot be written): the sink closes all the same
            finally:
                self.sink.close()
                self._export_gauges()
        return self.stats

    def _consume(self, chunk: Chunk) -> None:
        """Process one chunk into the batcher, in order.

        A block of lines for the compiled chain is handed to one of the chain's threads and taken up,
        in order, once ``AHEAD`` newer blocks are in flight (or the poll ends): the chain's Rust work,
        run without the GIL, overlaps this thread's Python work on older blocks (batching, the
        declined lines, the next read). Anything else is processed here after every block in flight,
        so the compiled chain is never called from two places for one source's lines out of order.
        """
        stats = self.stats
        count = chunk.count
        stats.lines += count
        stats.bytes += chunk.nbytes
        metrics.LINES_READ.labels(self._source_label).inc(count)
        metrics.BYTES_READ.labels(self._source_label).inc(chunk.nbytes)
        native = self.native
        if native is not None and chunk.lines is not None:
            assert self._ahead is not None  # started with the run whenever there is a compiled chain
            self._pending.append((chunk, self._ahead.submit(native.process_lines, chunk.lines)))
            self._finish_pending(AHEAD)
            return
        self._finish_pending(0)
        process, feed = self.process, self.batcher.feed
        if native is None:
            for event in chunk.events:
                batch = feed(process(event))
                if batch is not None:
                    self._submit(batch)
        else:
            feed_serialized = self.batcher.feed_serialized
            for event, result in zip(chunk.events, native.process(chunk.events), strict=True):
                batch = feed(process(event)) if result is None else feed_serialized(*result)
                if batch is not None:
                    self._submit(batch)
        self.batcher.mark(chunk.position, chunk.end_offset)

    def _finish_pending(self, keep: int) -> None:
        """Take up the blocks the compiled chain ran ahead, oldest first, until ``keep`` remain in flight."""
        while len(self._pending) > keep:
            chunk, running = self._pending.popleft()
            assert chunk.lines is not None
            self._consume_lines(chunk.lines, running.result())
            self.batcher.mark(chunk.position, chunk.end_offset)

    def _consume_lines(self, lines: Lines, compiled: native_chain.LinesResult) -> None:
        """A block of plain file lines, ``compiled`` by the compiled chain: the runs between declined
        lines go to the batcher as list slices, each declined line through the Python chain, in order."""
        docs, stamps, ids, tags, declined = compiled
        feed, feed_compiled = self.batcher.feed, self.batcher.feed_compiled
        start = 0
        for index in declined:
            if index > start:
                for full in feed_compiled(docs[start:index], stamps[start:index], ids[start:index], tags[start:index]):
                    self._submit(full)
            batch = feed(self.process(lines.event(index)))
            if batch is not None:
                self._submit(batch)
            start = index + 1
        if start < len(docs):
            if start:
                docs, stamps, ids, tags = docs[start:], stamps[start:], ids[start:], tags[start:]
            for full in feed_compiled(docs, stamps, ids, tags):
                self._submit(full)

    def process(self, event: Event) -> Event:
        """Run the processor chain; a processor that raises leaves the event tagged, never lost.

        No processor drops an event: one that should not be stored is tagged, so it stays countable
        and searchable.
        """
        for name, processor in self.processors:
            try:
                event = processor(event)
            except Exception as exc:  # noqa: BLE001 - any processor bug must not stop the pipeline
                metrics.PROCESSOR_ERRORS.labels(name).inc()
                add_tag(event, PROCESSOR_ERROR_TAG)
                event["logferry.processor_error"] = f"{name}: {type(exc).__name__}: {exc}"
        return event

    def _submit(self, batch: Batch | None) -> None:
        """Hand a batch (``None``: one writer's end) to the writers; blocks while every writer is busy
        and one batch waits (backpressure). Batches are numbered so they are acknowledged in order."""
        item = None
        if batch is not None:
            item = (self._submitted, batch)
            self._submitted += 1
        while True:
            self._raise_writer_failure()
            try:
                self._outbox.put(item, timeout=0.2)
                return
            except queue.Full:
                self._acknowledge()

    def _raise_writer_failure(self) -> None:
        if self._writer_failure is not None:
            raise self._writer_failure

    def _write_loop(self) -> None:
        """A writer thread: write each batch (retrying) and pass it back to be acknowledged.

        It ends at its ``None``, or when the run ends without one (the reading thread failed).
        """
        try:
            while True:
                try:
                    item = self._outbox.get(timeout=0.2)
                except queue.Empty:
                    if self._writers_quit.is_set():
                        return
                    continue
                if item is None:
                    return
                self._write(item[1])
                self._written.put(item)
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread, which raises it
            if self._writer_failure is None:
                self._writer_failure = exc

    def _write(self, batch: Batch) -> None:
        """Write one batch, retrying retriable failures with backoff and jitter."""
        started = time.monotonic()
        attempt = 0
        deadline: float | None = None
        while True:
            try:
                self.sink.write(batch)
                break
            except (LogferryError, OSError) as exc:
                if isinstance(exc, LogferryError) and not exc.retriable:
                    raise
                metrics.COMPONENT_EVENTS.labels(self.sink.name, RETRIED, type(exc).__name__).inc(len(batch))
                if self.stop.is_set():
                    deadline = deadline or time.monotonic() + self.shutdown_grace
                    if time.monotonic() >= deadline:
                        raise Interrupted(f"stopped while the sink was failing: {exc}") from exc
                attempt += 1
                metrics.SINK_RETRIES.labels(self.sink.name).inc()
                delay = WRITE_RETRY.delay(attempt)
                if self.stop.is_set():  # stopping: short waits until the grace period ends
                    assert deadline is not None
                    delay = min(delay, 0.5, max(0.0, deadline - time.monotonic()))
                log.warning("%s write failed (attempt %d), retrying in %.1fs: %s", self.sink.name, attempt, delay, exc)
                if self.stop.is_set():
                    time.sleep(delay)
                else:
                    self.stop.wait(delay)
        metrics.BATCH_SECONDS.labels(self.sink.name).observe(time.monotonic() - started)
        self._export_counts(self.sink.name, self.sink.counts)

    def _acknowledge(self) -> None:
        """Advance the source past every batch the writers finished, in batch order, and count them.

        A batch finished before an older one waits for it: positions never move past a batch that
        is not in the sink yet.
        """
        while True:
            try:
                number, done = self._written.get_nowait()
            except queue.Empty:
                break
            self._finished[number] = done
        while (batch := self._finished.pop(self._acked, None)) is not None:
            self._acked += 1
            self.source.ack(batch.positions)
            self.stats.written += len(batch)
            self.stats.batches += 1
            metrics.EVENTS_WRITTEN.labels(self.sink.name).inc(len(batch))
            for tag, n in batch.tag_counts().items():
                metrics.EVENTS_TAGGED.labels(str(tag)).inc(n)
            self._export_counts(self._source_label, self.source.counts)
            for name, processor in self._counting_processors:
                self._export_counts(name, processor.counts)
            self._export_gauges()

    def _export_counts(self, component: str, counts: EventCounts) -> None:
        """Add what a component counted since the last export to the shared metric family.

        Called by the writers for the sink and by this thread for the others; one at a time, so no
        total is exported twice. ``counts.items()`` is a snapshot.
        """
        with self._exporting:
            for (outcome, reason), total in counts.items():
                key = (component, outcome, reason)
                new = total - self._exported.get(key, 0)
                if new:
                    metrics.COMPONENT_EVENTS.labels(component, outcome, reason).inc(new)
                    self._exported[key] = total

    def _export_gauges(self) -> None:
        for name, behind in self.source.bytes_behind().items():
            metrics.BYTES_BEHIND.labels(name).set(behind)


def terminal_progress(stats: RunStats, source: Source) -> None:
    """One status line on stderr: lines/s, MB read, files open, bytes still behind."""
    elapsed = max(time.monotonic() - stats.started, 1e-9)
    behind = source.bytes_behind()
    files_open = getattr(source, "files_open", len(behind))
    sys.stderr.write(
        f"\r{stats.lines:,} lines  {stats.lines / elapsed:,.0f} lines/s  {stats.bytes / 1e6:,.1f} MB  "
        f"{files_open} files open  {sum(behind.values()) / 1e6:,.1f} MB behind  "
        f"{stats.written:,} written   "
    )
    sys.stderr.flush()
