"""The sink's writer threads: each takes a batch while the next one is being processed, writes it
(retrying what the sink may recover from) and hands it back, so positions are acknowledged in batch
order on the pipeline's thread (a Kafka consumer is not thread-safe).

A sink may set ``concurrency`` (default 1): that many batches are written at once, each from a
writer thread of its own, and its ``write`` must be safe to call from them together.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from core import metrics
from core.errors import LogferryError
from core.outcomes import RETRIED, EventCounts
from core.retry import RetryPolicy
from ingest.batch import Batch

log = logging.getLogger("logferry.pipeline")

WRITE_RETRY = RetryPolicy(initial=0.4, cap=30.0)
"""How a writer waits before trying a batch again that the sink could not take yet (core/retry.py)."""


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


class Interrupted(LogferryError):
    """Stopped while a batch could not be delivered; its events stay ahead of the source's positions."""


class WriterPool:
    """``start``, then ``submit`` batches and take back those written, in order, with ``written``;
    ``finish`` waits for every batch given; ``close`` ends the threads however the run ended."""

    def __init__(
        self,
        sink: Sink,
        stop: threading.Event,
        shutdown_grace: float,
        after_write: Callable[[Sink], None],
    ) -> None:
        self.sink = sink
        self.stop = stop
        self.shutdown_grace = shutdown_grace
        self._after_write = after_write
        self._threads = [
            threading.Thread(target=self._write_loop, name=f"{sink.name}-writer-{n}", daemon=True)
            for n in range(max(1, int(getattr(sink, "concurrency", 1))))
        ]
        self._outbox: queue.Queue[tuple[int, Batch] | None] = queue.Queue(maxsize=1)
        self._submitted = 0
        self._done: queue.SimpleQueue[tuple[int, Batch]] = queue.SimpleQueue()
        self._finished: dict[int, Batch] = {}
        self._acked = 0
        self._quit = threading.Event()
        self._failure: BaseException | None = None

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def submit(self, batch: Batch, while_waiting: Callable[[], None]) -> None:
        """Hand a batch to the writers; blocks while every writer is busy and one batch waits
        (backpressure), calling ``while_waiting`` meanwhile. Batches are numbered so they are
        acknowledged in order."""
        self._put((self._submitted, batch), while_waiting)
        self._submitted += 1

    def _put(self, item: tuple[int, Batch] | None, while_waiting: Callable[[], None]) -> None:
        while True:
            self.raise_failure()
            try:
                self._outbox.put(item, timeout=0.2)
                return
            except queue.Full:
                while_waiting()

    def written(self) -> Iterator[Batch]:
        """The batches written since the last call, in batch order: a batch finished before an older
        one waits for it, so positions never move past a batch that is not in the sink yet."""
        while True:
            try:
                number, done = self._done.get_nowait()
            except queue.Empty:
                break
            self._finished[number] = done
        while (batch := self._finished.pop(self._acked, None)) is not None:
            self._acked += 1
            yield batch

    def finish(self, while_waiting: Callable[[], None]) -> None:
        """Every batch submitted written: one end-mark per writer, then wait for them."""
        for _ in self._threads:
            self._put(None, while_waiting)
        for thread in self._threads:
            thread.join()

    def close(self) -> None:
        """End the writers, giving a failing sink ``shutdown_grace`` to recover."""
        self._quit.set()
        if any(thread.is_alive() for thread in self._threads):
            self.stop.set()
            deadline = time.monotonic() + self.shutdown_grace + 5
            for thread in self._threads:
                thread.join(max(0.0, deadline - time.monotonic()))

    def raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _write_loop(self) -> None:
        """A writer thread: write each batch (retrying) and pass it back to be acknowledged.

        It ends at its end-mark, or when the run ends without one (the reading thread failed).
        """
        try:
            while True:
                try:
                    item = self._outbox.get(timeout=0.2)
                except queue.Empty:
                    if self._quit.is_set():
                        return
                    continue
                if item is None:
                    return
                self._write(item[1])
                self._done.put(item)
        except BaseException as exc:  # noqa: BLE001 - handed to the reading thread, which raises it
            if self._failure is None:
                self._failure = exc

    def _write(self, batch: Batch) -> None:
        """Write one batch, retrying retriable failures with backoff and jitter."""
        sink = self.sink
        started = time.monotonic()
        attempt = 0
        deadline: float | None = None
        while True:
            try:
                sink.write(batch)
                break
            except (LogferryError, OSError) as exc:
                if isinstance(exc, LogferryError) and not exc.retriable:
                    raise
                metrics.COMPONENT_EVENTS.labels(sink.name, RETRIED, type(exc).__name__).inc(len(batch))
                if self.stop.is_set():
                    deadline = deadline or time.monotonic() + self.shutdown_grace
                    if time.monotonic() >= deadline:
                        raise Interrupted(f"stopped while the sink was failing: {exc}") from exc
                attempt += 1
                metrics.SINK_RETRIES.labels(sink.name).inc()
                delay = WRITE_RETRY.delay(attempt)
                if self.stop.is_set():  # stopping: short waits until the grace period ends
                    assert deadline is not None
                    delay = min(delay, 0.5, max(0.0, deadline - time.monotonic()))
                log.warning("%s write failed (attempt %d), retrying in %.1fs: %s", sink.name, attempt, delay, exc)
                if self.stop.is_set():
                    time.sleep(delay)
                else:
                    self.stop.wait(delay)
        metrics.BATCH_SECONDS.labels(sink.name).observe(time.monotonic() - started)
        self._after_write(sink)
