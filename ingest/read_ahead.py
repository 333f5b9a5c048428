"""Chunks transformed ahead of the pipeline's thread, taken up in the order they were read.

A transform that releases the GIL (``Transform.concurrent``: the compiled chain) runs ``AHEAD``
chunks at once, each on a thread of its own, while the pipeline's thread batches older ones, finishes
their declined lines in Python and reads the next; the chain's threads never wait for it and no
thread is started per chunk. Another transform runs on the pipeline's thread as each chunk is read.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from core.chunk import Chunk
from ingest.transform import Parts, Transform

AHEAD = 2
"""Chunks the compiled chain runs ahead of the pipeline's thread (``bench.pipeline`` b chose it)."""


class ReadAhead:
    """``add`` chunks as they are read, ``take`` their ``Parts`` back in order."""

    def __init__(self, transform: Transform) -> None:
        self.transform = transform
        self._executor = ThreadPoolExecutor(AHEAD, thread_name_prefix="transform") if transform.concurrent else None
        self._pending: collections.deque[tuple[Chunk, Future[Parts] | Parts]] = collections.deque()

    def add(self, chunk: Chunk) -> None:
        if self._executor is not None and chunk.lines is not None:
            self._pending.append((chunk, self._executor.submit(self.transform.process, chunk)))
        else:
            # Not worth a thread (events of a Kafka batch, stdin): after the chunks in flight, in order.
            self._pending.append((chunk, self.transform.process(chunk)))

    def take(self, keep: int = 0) -> Iterator[tuple[Chunk, Parts]]:
        """The oldest chunks and their parts, until ``keep`` remain in flight."""
        while len(self._pending) > keep:
            chunk, parts = self._pending.popleft()
            yield chunk, parts if isinstance(parts, Parts) else parts.result()

    def full(self) -> bool:
        """Whether as many chunks as run at once are in flight (then the oldest is taken up)."""
        return len(self._pending) > AHEAD

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None
        self._pending.clear()
