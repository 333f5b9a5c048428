"""A reader and the writer of one day file in one process (``logferry run`` serving the day it writes).

The process's one watcher thread lets idle holders go when the other side waits. A reader that lets
go and waits for the gate again holds its own lock meanwhile; the watcher must pass it over rather
than wait there, or it never gets to the idle writer, and the reader waits out its whole timeout
(seen as a 10 s stall and a 503 from ``logferry run``'s API while the live tail polled).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

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
