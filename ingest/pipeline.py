"""The whole path, top to bottom: source → transform → batcher → sink → acknowledge the source.

Everything here is the glue; each stage does one job in its own module: the transform (the
processors, compiled or in Python: ``ingest/transform.py``, ``ingest/native_chain.py``) run ahead of
this thread (``ingest/read_ahead.py``), the batcher (``ingest/batch.py``), the sink's writer threads
(``ingest/writers.py``), the metrics of what components did (``ingest/component_metrics.py``),
progress (``ingest/progress.py``) and the garbage collector's tuning (``ingest/collector.py``).

Delivery is at-least-once: the source's positions (registry offsets, Kafka offsets) advance only after
the sink accepted the batch that holds the events up to them, and event ids are deterministic, so a
replay is idempotent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from core import metrics
from core.chunk import Chunk, Position
from core.event import ProcessorFn
from core.outcomes import EventCounts
from enrich.event_metrics import EventMetricStore
from ingest.batch import Batch, Batcher
from ingest.collector import collector_tuned
from ingest.component_metrics import ComponentMetrics
from ingest.native_chain import transform_for
from ingest.progress import LogProgress, RunStats
from ingest.read_ahead import AHEAD, ReadAhead
from ingest.transform import CompiledRun, Parts, Transform
from ingest.writers import Interrupted, Sink, WriterPool

__all__ = ["Interrupted", "Pipeline", "RunStats", "Sink", "Source"]

EVENT_METRICS_EVERY = 1.0
"""Seconds between two folds of what the pipeline counted into the metrics made from events
(bench.pipeline b, 200k lines: chunk by chunk 17,017 facts folded, 0.25 µs of CPU a line; once a
second, a tenth of that)."""


class Source(Protocol):
    """Where lines come from. ``counts`` is what the source cut or otherwise changed, by reason."""

    @property
    def counts(self) -> EventCounts: ...

    def poll(self, budget_bytes: int = ...) -> Iterator[Chunk]: ...
    def ack(self, positions: dict[Position, int]) -> None: ...
    def bytes_behind(self) -> dict[str, int]: ...
    def done(self) -> bool: ...
    def close(self) -> None: ...


class Pipeline:
    """Runs one source through the transform into one sink, in batches, until told to stop.

    ``transform`` is what ``ingest.native_chain.transform_for`` chose (``logferry/assemble.py`` does);
    given a list of processors, the pipeline chooses the same way.
    """

    def __init__(
        self,
        source: Source,
        transform: Transform | list[tuple[str, ProcessorFn]],
        batcher: Batcher,
        sink: Sink,
        *,
        idle_wait: float = 0.1,
        shutdown_grace: float = 10.0,
        progress: Callable[[RunStats, Source], None] | None = None,
        report: LogProgress | None = None,
        stop: threading.Event | None = None,
        event_metrics: EventMetricStore | None = None,
    ) -> None:
        self.source = source
        buckets = event_metrics.config.buckets if event_metrics is not None else None
        self.transform: Transform = (
            transform_for(transform, batcher.serialize, buckets) if isinstance(transform, list) else transform
        )
        self.event_metrics = event_metrics
        """Where the metrics made from events go (``enrich/event_metrics.py``): the events the Python
        processors finish are counted as they are fed, the compiled chain's documents by the facts
        it counted (``Parts.facts``), and what was counted is folded in once a second."""
        self._tally = event_metrics.tally() if event_metrics is not None else None
        self._last_fold = time.monotonic()
        self.batcher = batcher
        self.sink = sink
        self.idle_wait = idle_wait
        self.shutdown_grace = shutdown_grace
        self.progress = progress
        """Redrawn on a terminal every second (``ingest.progress.terminal_progress``)."""
        self.report = report
        """A progress line every few seconds where stderr is not a terminal (``LogProgress``)."""
        self.stats = RunStats()
        self.stop = stop if stop is not None else threading.Event()
        self._source_label = type(source).__name__
        self._metrics = ComponentMetrics()
        self._ahead: ReadAhead | None = None
        self._writers: WriterPool | None = None

    def run(self, *, once: bool = False) -> RunStats:
        """Read → transform → write until ``stop`` is set (or, with ``once``, until the source is drained).

        Transforming runs on this thread (and, for the compiled chain, ``AHEAD`` chunks ahead on
        threads of its own) and writing on the sink's writer threads, one batch ahead at most, so
        the sink's I/O (DuckDB's insert, an HTTP round trip) overlaps the next batch's work.
        Positions are acknowledged back on this thread, in batch order, because a Kafka consumer
        is not thread-safe.
        """
        with collector_tuned():
            return self._run(once)

    def _run(self, once: bool) -> RunStats:
        ahead = self._ahead = ReadAhead(self.transform)
        writers = self._writers = WriterPool(self.sink, self.stop, self.shutdown_grace, self._sink_written)
        writers.start()
        last_progress = time.monotonic()
        try:
            while not self.stop.is_set():
                got = False
                for chunk in self.source.poll():
                    got = True
                    self._read(chunk)
                    if self.stop.is_set():
                        break
                self._take_up(0)
                batch = self.batcher.due()
                if batch is not None:
                    self._submit(batch)
                self._acknowledge()
                writers.raise_failure()
                if self.progress is not None and time.monotonic() - last_progress >= 1.0:
                    last_progress = time.monotonic()
                    self.progress(self.stats, self.source)
                if self.report is not None:
                    self.report.report(self.stats, self.source)
                if once and not got and self.source.done():
                    break
                if not got:
                    self.stop.wait(self.idle_wait)
            batch = self.batcher.flush()
            if batch is not None:
                self._submit(batch)
            writers.finish(self._acknowledge)
            self._acknowledge()
            writers.raise_failure()
        finally:
            ahead.close()
            writers.close()
            try:
                self.source.close()  # may fail (its registry cannot be written): the sink closes all the same
            finally:
                self.sink.close()
                self._export_gauges()
                self._fold_event_metrics(now=True)
        return self.stats

    def _read(self, chunk: Chunk) -> None:
        """Count a chunk read and hand it to the transform; take up the oldest when enough run ahead."""
        stats = self.stats
        count = chunk.count
        stats.lines += count
        stats.bytes += chunk.nbytes
        metrics.LINES_READ.labels(self._source_label).inc(count)
        metrics.BYTES_READ.labels(self._source_label).inc(chunk.nbytes)
        assert self._ahead is not None
        self._ahead.add(chunk)
        if self._ahead.full():
            self._take_up(AHEAD)

    def _take_up(self, keep: int) -> None:
        """Feed the transformed chunks to the batcher, oldest first, until ``keep`` remain in flight."""
        assert self._ahead is not None
        for chunk, parts in self._ahead.take(keep):
            self._feed(parts)
            self.batcher.mark(chunk.position, chunk.end_offset)
            self._metrics.add_compiled(parts.counts)
        self._fold_event_metrics()

    def _feed(self, parts: Parts) -> None:
        """Runs of compiled documents go to the batcher as list slices; each event the Python
        processors finish (here, in line order) is serialized and added on its own."""
        feed, feed_compiled, submit = self.batcher.feed, self.batcher.feed_compiled, self._submit
        tally = self._tally
        for item in parts.items():
            if type(item) is CompiledRun:
                if tally is not None and parts.facts is None:
                    tally.observe_documents(item.docs)  # a transform that did not count them itself
                for full in feed_compiled(*item):
                    submit(full)
            else:
                if tally is not None:
                    tally.observe(item)  # type: ignore[arg-type]
                batch = feed(item)  # type: ignore[arg-type]
                if batch is not None:
                    submit(batch)
        if tally is not None and parts.facts:
            tally.add_facts(parts.facts)

    def _fold_event_metrics(self, *, now: bool = False) -> None:
        """Fold what the tally counted into the metric store every ``EVENT_METRICS_EVERY`` seconds (or
        ``now``): folding costs per distinct fact, and a second's chunks share most of theirs."""
        if self._tally is None or self.event_metrics is None or not len(self._tally):
            return
        if now or time.monotonic() - self._last_fold >= EVENT_METRICS_EVERY:
            self._last_fold = time.monotonic()
            self.event_metrics.add(self._tally.take())

    def _submit(self, batch: Batch) -> None:
        assert self._writers is not None
        self._writers.submit(batch, self._acknowledge)

    def _acknowledge(self) -> None:
        """Advance the source past every batch the writers finished, in batch order, and count them."""
        assert self._writers is not None
        for batch in self._writers.written():
            self.source.ack(batch.positions)
            self.stats.written += len(batch)
            self.stats.batches += 1
            metrics.EVENTS_WRITTEN.labels(self.sink.name).inc(len(batch))
            for tag, n in batch.tag_counts().items():
                metrics.EVENTS_TAGGED.labels(str(tag)).inc(n)
            self._export_counts()
            self._export_gauges()

    def _sink_written(self, sink: Sink) -> None:
        """After each batch a writer wrote: the sink's counts (on the writer's thread)."""
        self._metrics.export(sink.name, sink.counts)

    def _export_counts(self) -> None:
        self._metrics.export(self._source_label, self.source.counts)
        processors = self.transform.counts()
        for name, counts in processors.items():
            self._metrics.export(name, counts)
        self._metrics.export_compiled(skip={self._source_label, self.sink.name, *processors})

    def _export_gauges(self) -> None:
        for name, behind in self.source.bytes_behind().items():
            metrics.BYTES_BEHIND.labels(name).set(behind)
