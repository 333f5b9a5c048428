"""The checkpointer: acknowledged positions into the registry, at most one write per interval.

The sink acknowledges every batch; the registry is written once per ``registry_flush`` with what
moved since (Filebeat's ``registry.flush``, Vector's checkpoint interval), so thousands of files cost
one short journal line a second, not one file rewrite per batch. A crash loses at most the last
interval's positions: those lines are read again, and deterministic event ids make the sinks store
them once.

A write that fails (a full disk, an I/O error) stops nothing: the positions stay in memory, a warning
says so (again every minute while it lasts), and the next interval tries again. Only the last write,
when the source closes, must succeed: it is retried until it does or the process is told to stop
(then it fails with one line, and the lines since the last write are read again next time).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Any

from core.chunk import Position
from core.outcomes import DEAD_LETTERED
from core.retry import RetryPolicy
from ingest.registry import Registry, RegistryError

log = logging.getLogger("logferry.file_source")

REMIND_EVERY = 60.0
CLOSE_RETRY = RetryPolicy(initial=0.5, cap=10.0)


class Checkpointer:
    """Writes the registry on an interval; ``register`` writes new generations before their lines ship."""

    def __init__(self, registry: Registry, interval: float, *, stop: threading.Event | None = None) -> None:
        self.registry = registry
        self.interval = interval
        self.stop = stop
        self.writes = 0
        """Successful registry writes (journal lines), for tests and benchmarks."""
        self._last_write = 0.0
        self._failing_since: float | None = None
        self._reminded = 0.0
        self._sink: Any = None
        self._acked = registry.sink.bytes_acked
        self._dead_base = registry.sink.dead_lettered
        self._dead_seen = 0
        self._last_ack = registry.sink.last_write

    def start(self) -> None:
        """Take the registry (``RegistryBusy`` if another process has it) and record who writes it."""
        self.registry.lock()
        self.registry.record_sink(
            pid=os.getpid(),
            command=" ".join(sys.argv[1:])[:200],
            cwd=os.getcwd(),
            started=time.time(),
            running=True,
        )

    def attach(self, sink: Any) -> None:
        """The sink whose acknowledgements these are: its dead letters are recorded beside the positions."""
        self._sink = sink

    def ack(self, positions: dict[Position, int]) -> None:
        """The sink accepted everything up to these positions."""
        moved = self.registry.advance(positions)
        if moved:
            self._acked += moved
            self._last_ack = time.time()
        self.tick()

    def tick(self) -> None:
        """Write what changed if the interval has passed since the last write; once nothing changes
        any more, fold the journal into the snapshot (so ``registry.json`` alone is current when idle)."""
        if time.monotonic() - self._last_write < self.interval:
            return
        if self._changed():
            self.flush()
        elif self.registry.journal_bytes and self._failing_since is None:
            try:
                self.registry.compact()
            except RegistryError as exc:
                self._failed(exc)
            else:
                self._last_write = time.monotonic()

    def register(self) -> None:
        """Write new generations now, before their first lines can reach a sink (not synced: a kill
        cannot lose it, and the next interval's write syncs it). If logferry is killed after those lines
        were stored and the file is copied and truncated before the restart, the registry knows the
        generation, and the copy continues it with the same event ids instead of new ones."""
        try:
            self.registry.save(sync=False, compact=False)
        except RegistryError as exc:
            self._failed(exc)

    def flush(self) -> bool:
        """Write now; False (warned) if the registry could not be written."""
        self._record_sink()
        try:
            self.registry.save()
        except RegistryError as exc:
            self._failed(exc)
            return False
        self._last_write = time.monotonic()
        self.writes += 1
        if self._failing_since is not None:
            log.warning(
                "registry %s written again after %.0f s", self.registry.path, time.monotonic() - self._failing_since
            )
            self._failing_since = None
        return True

    def write_quietly(self) -> None:
        """Write what is pending now, warning instead of raising (the source was dropped unclosed)."""
        if self._changed():
            self.flush()

    def close(self) -> None:
        """The last write, with the snapshot whole; retried until it succeeds or ``stop`` is set."""
        self.registry.record_sink(running=False)
        self._record_sink()
        attempt = 0
        while True:
            try:
                self.registry.close()
                return
            except RegistryError as exc:
                if self.stop is None or self.stop.is_set():
                    raise
                attempt += 1
                delay = CLOSE_RETRY.delay(attempt)
                if attempt == 1 or time.monotonic() - self._reminded >= REMIND_EVERY:
                    self._reminded = time.monotonic()
                    log.warning("%s; retrying in %.1f s until it can be written (SIGTERM gives up)", exc, delay)
                self.stop.wait(delay)

    def _changed(self) -> bool:
        registry = self.registry
        return (
            registry.pending
            or registry.unsynced
            or self._last_ack != registry.sink.last_write
            or self._dead() != self._dead_seen
        )

    def _dead(self) -> int:
        counts = getattr(self._sink, "counts", None)
        return counts.total(DEAD_LETTERED) if counts is not None else 0

    def _record_sink(self) -> None:
        dead = self._dead()
        sink = self.registry.sink
        if sink.last_write != self._last_ack or sink.bytes_acked != self._acked or dead != self._dead_seen:
            self._dead_seen = dead
            self.registry.record_sink(
                last_write=self._last_ack, bytes_acked=self._acked, dead_lettered=self._dead_base + dead
            )

    def _failed(self, exc: RegistryError) -> None:
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = self._reminded = now
            log.warning("%s; logferry goes on and tries again every %.1f s", exc, self.interval)
        elif now - self._reminded >= REMIND_EVERY:
            self._reminded = now
            log.warning("%s (failing for %.0f s; still trying)", exc, now - self._failing_since)
        self._last_write = now
