"""The gates' watcher lets an idle holder go while another gate of the same process is busy being taken."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from store import day_store
from store.day_store import StoreGate


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
