"""A reader and the writer of one day file in one process (``logferry run`` serving the day it writes).

The process's one watcher thread lets idle holders go when the other side waits. A reader that lets
go and waits for the gate again holds its own lock meanwhile; the watcher must pass it over rather
than wait there, or it never gets to the idle writer, and the reader waits out its whole timeout
(seen as a 10 s stall and a 503 from ``logferry run``'s API while the live tail polled).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from store import day_store
from store.day_store import StoreGate


def test_a_reader_waiting_again_gets_in_while_the_writer_of_its_process_is_idle(tmp_path: Path) -> None:
    for attempt in range(6):  # the watcher visits the two gates in set order: try both orders
        lock = tmp_path / f".2026-03-10-{attempt}"
        reader = StoreGate(lock, exclusive=False, on_release=lambda: None)
        writer = StoreGate(lock, exclusive=True, on_release=lambda: None)
        with reader.held(5):
            pass
        writer_in = threading.Event()

        def write(gate: StoreGate = writer, done: threading.Event = writer_in) -> None:
            with gate.held(10):
                done.set()

        thread = threading.Thread(target=write)
        thread.start()
        deadline = time.monotonic() + 5
        while not reader._other_waits():  # the writer waits for the gate now
            assert time.monotonic() < deadline
            time.sleep(0.001)
        # The reader lets go itself and queues behind the writer, who then sits idle holding the gate.
        with reader.held(3):
            assert writer_in.is_set()
        thread.join()
        reader.close()
        writer.close()


class _InOrder:
    """``_held_gates`` with a fixed order, so the watcher meets the busy writer first (a set's order is arbitrary)."""

    def __init__(self) -> None:
        self._items: dict[Any, None] = {}

    def add(self, item: Any) -> None:
        self._items[item] = None

    def discard(self, item: Any) -> None:
        self._items.pop(item, None)

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._items))


def test_a_writer_waiting_for_an_idle_reader_of_its_own_process_gets_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(day_store, "_held_gates", _InOrder())
    lock = tmp_path / ".2026-01-01"
    released = threading.Event()
    writer = StoreGate(lock, exclusive=True, on_release=lambda: None)
    reader = StoreGate(lock, exclusive=False, on_release=released.set)
    day_store._watch(writer)  # met first by the watcher: a writer that once held the gate and let go in held()
    with reader.held(5):
        pass  # the reader keeps the gate, idle, as a DuckDBBackend keeps a day open

    started = time.monotonic()
    with writer.held(20):  # waits under its own lock for the reader to let go
        waited = time.monotonic() - started
    assert released.is_set()
    assert waited < 5, f"the writer waited {waited:.1f}s for an idle reader of its own process"
    writer.close()
    reader.close()
