"""The garbage collector while a pipeline runs: what exists at start is frozen, the young generation
collected every ``COLLECT_EVERY`` allocations instead of CPython's 700.

Why: a run allocates containers in bulk (a block's result lists, the events of declined lines, the
stubs a sink reads) that die within a batch, with no cycles among them. With the default threshold
the collector runs hundreds of times per 200k lines, each time walking what the batches in flight
keep alive, and every full collection walks all of logferry's modules and config (``bench.pipeline``
c measures it; the figures are in the commit that tuned it).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

COLLECT_EVERY = 50_000
"""Container allocations between young-generation collections while a pipeline runs (CPython: 700)."""
_collector_lock = threading.Lock()
_collector_users = 0
_collector_saved: tuple[int, int, int] = (700, 10, 10)


@contextlib.contextmanager
def collector_tuned() -> Iterator[None]:
    """Tune the collector for the ``with`` block; restored when the last running pipeline of the
    process ends (runs may overlap: tests, ``serve`` beside ``run``)."""
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
