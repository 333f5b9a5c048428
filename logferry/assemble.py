"""A whole pipeline from settings, top to bottom: source → transform → batcher → sink.

Which source and sink run is the config's ``[source] type`` and ``[sink] type``; the commands only
give defaults and flags. The chain between them is ``pipeline = [...]``, shaped by the two ends: a
Kafka sink ships raw lines (the indexers process them, so a parser fix can be replayed from the
topic), and a Kafka source first turns the shipper's host into ``host.name``. Which implementation
runs the chain is chosen here too (``ingest.native_chain.transform_for``): the compiled chain for
every processor it has a twin for, the Python processors for the rest.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from core import metrics
from core.event import Event, ProcessorFn
from core.keys import RAW
from enrich.event_metrics import EventMetricStore
from ingest.batch import Batcher
from ingest.document import serialize
from ingest.kafka_wire import RestoreShipperHost
from ingest.native_chain import transform_for
from ingest.pipeline import Pipeline
from ingest.progress import LogProgress, terminal_progress
from logferry.config import Settings
from logferry.stages import PROCESSORS

RESTORE_HOST = RestoreShipperHost.name


@runtime_checkable
class RecoversRun(Protocol):
    """A sink that must see the source before its first write (``ingest.duckdb_sink.DuckDBSink``)."""

    def recover(self, source: Any) -> int: ...


def assemble(settings: Settings, *, once: bool, stop: threading.Event | None = None) -> Pipeline:
    """The configured pipeline, its components built and connected; progress redrawn on a terminal, a
    progress line every 10 s elsewhere.

    The sink is built first: the DuckDB sink takes the store's writer lock, and a second writer must be
    refused before it opens the registry. Config mistakes of the source are reported before either.
    A sink that keeps what a killed run wrote past the source's positions (DuckDB) drops it once the
    source is there to say how far it acknowledged (``recover``), before anything is read.
    """
    stop = stop if stop is not None else threading.Event()
    settings.source.check(settings)
    sink = settings.sink.build(settings, stop)
    try:
        source = settings.source.build(settings, once=once, stop=stop, sink=sink)
    except BaseException:
        sink.close()
        raise
    if isinstance(sink, RecoversRun):
        try:
            sink.recover(source)
        except BaseException:
            source.close()
            sink.close()
            raise
    batcher = Batcher(settings.batch, serializer=serializer_for(settings))
    on_terminal = sys.stderr.isatty()
    processors = processors_for(settings)
    event_metrics = event_metrics_store(settings) if processors else None
    buckets = event_metrics.config.buckets if event_metrics is not None else None
    return Pipeline(
        source,
        transform_for(processors, serializer_for(settings), buckets),
        batcher,
        sink,
        progress=terminal_progress if on_terminal else None,
        report=None if on_terminal else LogProgress(),
        stop=stop,
        event_metrics=event_metrics,
    )


_event_metrics: EventMetricStore | None = None
_event_metrics_lock = threading.Lock()


def event_metrics_store(settings: Settings) -> EventMetricStore | None:
    """The process's one store of metrics made from events, in the registry /metrics serves.

    One per process: its series are the process's (Prometheus scrapes a process), and the registry
    takes one collector per name. A later pipeline in the process (tests, ``demo``) reconfigures it.
    ``None`` when ``[event_metrics] enabled`` is off.
    """
    global _event_metrics
    if not settings.event_metrics.enabled:
        return None
    with _event_metrics_lock:
        if _event_metrics is None:
            _event_metrics = EventMetricStore(settings.event_metrics)
            metrics.REGISTRY.register(_event_metrics)
        elif _event_metrics.config != settings.event_metrics:
            _event_metrics.configure(settings.event_metrics)
        return _event_metrics


def processors_for(settings: Settings) -> list[tuple[str, ProcessorFn]]:
    """The configured chain, shaped by the ends (see the module docstring)."""
    if settings.sink.type == "kafka":
        return []
    chain = build_processors(settings)
    if settings.source.type == "kafka":
        return with_shipper_host(chain)
    return chain


def build_processors(settings: Settings, names: list[str] | None = None) -> list[tuple[str, ProcessorFn]]:
    """Instantiate the configured processors in order, each with its own config section.

    Built here, not in the pipeline: the pipeline runs whatever chain it is given and never reads settings.
    """
    chain = []
    for name in settings.pipeline if names is None else names:
        cls = PROCESSORS[name]
        chain.append((name, cls(getattr(settings.processors, name))))
    return chain


def serializer_for(settings: Settings) -> Callable[[Event], bytes]:
    """How an event becomes the bytes the sink sends: the raw line to Kafka, else the ECS document."""
    return raw_line if settings.sink.type == "kafka" else serialize


def with_shipper_host(chain: list[tuple[str, ProcessorFn]]) -> list[tuple[str, ProcessorFn]]:
    """``chain`` with the step that turns the shipper's host into ``host.name``, where ``add_metadata`` would."""
    names = [name for name, _ in chain]
    if "add_metadata" in names:
        at = names.index("add_metadata")
        return [*chain[:at], (RESTORE_HOST, RestoreShipperHost()), *chain[at:]]
    return [(RESTORE_HOST, RestoreShipperHost(RestoreShipperHost.Config(fill=False))), *chain]


def raw_line(event: dict[str, Any]) -> bytes:
    """The shipper's wire value: the line exactly as read, no processing."""
    line: bytes = event[RAW]
    return line
