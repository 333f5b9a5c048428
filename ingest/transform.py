"""What runs between the source and the batcher: a chunk's lines in, its documents out, in line order.

One interface, ``Transform.process(chunk) -> Parts``, with two implementations, chosen where the
pipeline is assembled (``logferry/assemble.py``, through ``ingest.native_chain.transform_for``):
``PythonTransform`` runs the configured processors (``parsers/``, ``enrich/``, a user's own) and the
serializer, and
``ingest.native_chain.CompiledTransform`` runs the compiled chain (``native/``) for every step it
has a twin for and this class for the rest, line by line where it must.

``Parts`` are what the pipeline feeds the batcher: runs of documents the compiled chain wrote (list
slices, no Python per line) and, between them, the events the Python processors finish. Those are
finished as the parts are taken up (``Parts.items``), on the pipeline's thread and in line order, so a
processor never runs on two threads at once and always sees the lines in order; ``process`` itself
may run ahead on another thread (``concurrent``). What a transform counted (the values the compiled
``redact`` masked, the lines the compiled chain declined and why) comes back as data, in ``counts``,
and so do the facts of the metrics made from the documents it wrote (``facts``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, Protocol

from core import metrics
from core.chunk import Chunk
from core.event import Event, ProcessorFn
from core.outcomes import CountsEvents, EventCounts
from core.tags import add_tag

PROCESSOR_ERROR_TAG = "_processorerror"
PROCESSOR_ERROR = "logferry.processor_error"

Serializer = Callable[[Event], bytes]
Count = tuple[str, str, str]
"""``(component, outcome, reason)`` of ``logferry_component_events_total``."""


class CompiledRun(NamedTuple):
    """Consecutive lines the compiled chain wrote: their documents and what sinks read of each."""

    docs: list[bytes]
    stamps: list[str]
    ids: list[str]
    tags: list[tuple[str, ...] | None]


class Parts:
    """A chunk's lines transformed, in line order (see the module docstring).

    ``compiled`` holds the compiled chain's columns (None where a line is left to Python, and then
    its index is in ``pending``); without it every line is pending. ``finish(i)`` gives line ``i``'s
    event through the Python processors. ``facts``: what the compiled chain counted of the documents
    it wrote for the metrics made from events (rows for ``enrich.event_metrics.EventTally.add_facts``),
    None when it counted nothing.
    """

    __slots__ = ("count", "finish", "compiled", "pending", "counts", "facts")

    def __init__(
        self,
        count: int,
        finish: Callable[[int], Event],
        compiled: CompiledRun | None = None,
        pending: list[int] | None = None,
        counts: dict[Count, int] | None = None,
        facts: list[tuple[Any, ...]] | None = None,
    ) -> None:
        self.count = count
        self.finish = finish
        self.compiled = compiled
        self.pending = pending if pending is not None else []
        self.counts = counts if counts is not None else {}
        self.facts = facts

    def items(self) -> Iterator[CompiledRun | Event]:
        """Runs of compiled documents and finished events, in line order."""
        compiled, finish = self.compiled, self.finish
        if compiled is None:
            for index in range(self.count):
                yield finish(index)
            return
        docs, stamps, ids, tags = compiled
        start = 0
        for index in self.pending:
            if index > start:
                yield CompiledRun(docs[start:index], stamps[start:index], ids[start:index], tags[start:index])
            yield finish(index)
            start = index + 1
        if start < self.count:
            if start:
                yield CompiledRun(docs[start:], stamps[start:], ids[start:], tags[start:])
            else:
                yield compiled


class Transform(Protocol):
    """A chunk's lines in, its ``Parts`` out; see the module docstring."""

    concurrent: bool
    """Whether ``process`` is worth running on a thread of its own (it releases the GIL)."""

    def process(self, chunk: Chunk) -> Parts: ...

    def counts(self) -> dict[str, EventCounts]:
        """What the processors counted so far, by component (``CountsEvents`` of the Python ones)."""
        ...


def run_steps(steps: list[tuple[str, ProcessorFn]], event: Event) -> Event:
    """Run processors in order; one that raises leaves the event tagged, never lost.

    No processor drops an event: one that should not be stored is tagged, so it stays countable and
    searchable.
    """
    for name, processor in steps:
        try:
            event = processor(event)
        except Exception as exc:  # noqa: BLE001 - any processor bug must not stop the pipeline
            metrics.PROCESSOR_ERRORS.labels(name).inc()
            add_tag(event, PROCESSOR_ERROR_TAG)
            event[PROCESSOR_ERROR] = f"{name}: {type(exc).__name__}: {exc}"
    return event


class PythonTransform:
    """The configured processors, then the serializer, one event at a time."""

    concurrent = False

    def __init__(self, processors: list[tuple[str, ProcessorFn]], serializer: Serializer) -> None:
        self.processors = processors
        self.serialize = serializer
        self._counting: list[tuple[str, CountsEvents]] = []
        for name, processor in processors:
            if isinstance(processor, CountsEvents):
                self._counting.append((name, processor))

    def process(self, chunk: Chunk) -> Parts:
        lines = chunk.lines
        if lines is not None:
            return Parts(len(lines), lambda index: run_steps(self.processors, lines.event(index)))
        events = chunk.events
        return Parts(len(events), lambda index: run_steps(self.processors, events[index]))

    def run(self, event: Event, start: int = 0) -> Event:
        """``event`` through the processors from the ``start``-th on."""
        return run_steps(self.processors[start:] if start else self.processors, event)

    def counts(self) -> dict[str, EventCounts]:
        return {name: processor.counts for name, processor in self._counting}
