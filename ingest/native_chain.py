"""The compiled fast path: the default processor chain in Rust (``native/``, module ``logferry_native``).

It applies only when the configured chain is exactly the default one: every processor of
``DEFAULT_ORDER`` in that order, each with its default options (``add_metadata.host_name`` aside).
Any other pipeline (a reordered or shortened list, a changed option, a user's own processor) runs
the Python chain, always. Within a default chain the compiled side declines every line it cannot
turn into the very document the Python chain would (an object its reader does not take: duplicate
keys, integers beyond 64 bits, deep nesting; rare time formats; non-ASCII text a ``key=value``
redaction would scan; field conflicts …); those lines go through the Python processors unchanged, so
the output is the same either way, only faster.

Lines that are not a JSON object (text, an array or scalar, broken JSON, invalid UTF-8 repaired with
U+FFFD) are compiled as ``decode_json`` treats them. A line without a readable time (no time field,
or one that certainly does not parse: ``_dateparsefailure``) is stamped with the time of processing:
the Python chain reads its clock there (``parsers.timestamp.now_utc``), the compiled one has none and
uses the block's ``event.ingested``, taken when the block is processed. That ``@timestamp`` is the one
value of a compiled document that is not the Python chain's byte for byte, by construction; the parity
tests compare it normalized, and hold it to equal the line's ``event.ingested``. Event ids of file
lines do not depend on it (file identity and offset); the sinks' day partitions follow it, as they
follow the Python chain's clock.

The compiled chain redacts the other lines itself and says how many values it masked; that is added
to the ``Redact`` processor's count (``NativeChain.tally``), so the metric of redactions is the
Python chain's whichever path a line took.

Without the module (a checkout where ``./native`` was not installed) logferry still works on the
Python path and says so once at start.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any, Protocol

from core.chunk import Lines
from core.event import Event, ProcessorFn
from enrich.ecs_objects import FitEcsObjects
from enrich.endpoint import TemplateEndpoint
from enrich.event_id import AssignId
from enrich.metadata import AddMetadata
from enrich.redact import Redact
from enrich.status import ClassifyStatus
from ingest.document import serialize
from parsers.common import MapCommonFields
from parsers.decode import DecodeJson
from parsers.error import TagError
from parsers.fingerprint import FingerprintError
from parsers.http import TagHttp
from parsers.level import ParseLevel
from parsers.message import ParseMessage
from parsers.path_settings import ApplyPathSettings
from parsers.timestamp import ParseTimestamp

log = logging.getLogger("logferry.native")

THREADS = 1 if (os.cpu_count() or 1) <= 2 else 2
"""Threads the compiled chain splits one block of file lines over (halves at once, order kept).

A pipeline already runs ``ingest.pipeline.AHEAD`` blocks at once, each on a thread of its own; on this
2-core machine splitting each block as well cost CPU (a thread started per block, 15-30% more CPU per
line) and time: ``bench.pipeline`` b 0.63 s with two threads per block against 0.61 s with one
(200k lines, two blocks ahead, best of four). Where there are more cores, a block is split in two."""

try:
    import logferry_native
except ImportError:  # the Python path still works; see available()
    logferry_native = None

COMPILED_CHAIN: tuple[tuple[str, type[Any]], ...] = (
    ("decode_json", DecodeJson),
    ("apply_path_settings", ApplyPathSettings),
    ("parse_timestamp", ParseTimestamp),
    ("parse_level", ParseLevel),
    ("parse_message", ParseMessage),
    ("tag_error", TagError),
    ("tag_http", TagHttp),
    ("map_common_fields", MapCommonFields),
    ("fingerprint_error", FingerprintError),
    ("fit_ecs_objects", FitEcsObjects),
    ("template_endpoint", TemplateEndpoint),
    ("classify_status", ClassifyStatus),
    ("redact", Redact),
    ("add_metadata", AddMetadata),
    ("assign_id", AssignId),
)
"""What ``logferry_native`` implements: these processors in this order, each with its default options.
Today that is ``logferry.stages.DEFAULT_ORDER`` (a test checks); a chain that differs runs in Python."""

Result = tuple[bytes, Event] | None
LinesResult = tuple[list[bytes], list[str], list[str], list[tuple[str, ...] | None], list[int]]
"""Parallel lists over a block's lines: documents, timestamps, event ids, tags (a tuple shared by the
lines with the same tags; None: no tag); and the ascending indices of the declined lines (None in the
other lists there)."""
Redacted = dict[int, int]
"""``{index: values masked}`` for the lines (events) of a compiled pass whose values ``redact`` masked."""
CompiledLinesResult = tuple[list[bytes], list[str], list[str], list[tuple[str, ...] | None], list[int], Redacted]
"""What ``logferry_native.Chain.process_lines`` returns: ``LinesResult`` and ``Redacted``."""


class _CompiledChain(Protocol):
    def process(self, events: list[Event], ingested: str) -> tuple[list[Result], Redacted]: ...
    def process_lines(
        self,
        lines: list[bytes],
        source_id: str,
        path: str,
        first_offset: int,
        skip: list[int],
        ingested: str,
        threads: int,
    ) -> CompiledLinesResult: ...


def available() -> bool:
    """Whether ``logferry_native`` is installed (``pip install ./native``)."""
    return logferry_native is not None


class NativeChain:
    """The compiled default chain, fed a chunk's events at a time."""

    def __init__(self, metadata: AddMetadata, redact: Redact) -> None:
        if logferry_native is None:
            raise RuntimeError("logferry_native is not installed (pip install ./native)")
        self._metadata = metadata
        self._redact = redact
        self._chain: _CompiledChain = logferry_native.Chain(metadata.host_name)
        self.processed = 0
        self.declined = 0
        self._tally_lock = threading.Lock()
        """A pipeline runs blocks on several threads at once (``ingest.pipeline.AHEAD``), each tallied."""
        self.threads = THREADS

    def process(self, events: list[Event]) -> list[Result]:
        """Per event ``(document, stub)``, or ``None`` for a line the Python chain must process.

        The stub holds what the batcher and the sinks read of a processed event: ``@timestamp``,
        ``event.id`` and ``tags``. A chunk shares one ``event.ingested``: it is read in microseconds.
        """
        results, redacted = self._chain.process(events, self._metadata.ingested_now())
        self.tally(len(results), results.count(None), sum(redacted.values()))
        return results

    def process_lines(self, lines: Lines) -> LinesResult:
        """A file source's block of plain lines at once, the GIL released meanwhile; the lines read
        apart (``lines.special``: cut, partial) are declined without a look (their tags are Python's)."""
        docs, stamps, ids, tags, declined, redacted = self.run_lines(self._chain, lines)
        self.tally(len(lines), len(declined), sum(redacted.values()))
        return docs, stamps, ids, tags, declined

    def tally(self, lines: int, declined: int, redactions: int) -> None:
        """Count a pass: ``declined`` of ``lines`` were left to the Python chain, and in the others
        the compiled chain masked ``redactions`` values. Those go to the ``Redact`` processor's count,
        which the pipeline exports (the declined lines meet that processor and it counts them itself,
        on another thread when blocks run ahead: hence a counter of the compiled chain's own there)."""
        with self._tally_lock:
            self.declined += declined
            self.processed += lines - declined
            self._redact.compiled_redactions += redactions

    def run_lines(self, chain: _CompiledChain, lines: Lines) -> CompiledLinesResult:
        """``lines`` through ``chain`` with this chunk's ``event.ingested``; the lines read apart
        (cut, partial) are declined unseen."""
        return chain.process_lines(
            lines.lines,
            lines.source_id,
            lines.path,
            lines.first_offset,
            sorted(lines.special),
            self._metadata.ingested_now(),
            self.threads,
        )


def _is_default(processor: Any, cls: type[Any]) -> bool:
    config = getattr(processor, "config", None)
    if type(processor) is not cls or config is None:
        return False
    default = cls.Config()
    if cls is AddMetadata:
        return bool(config.add_ingested) and config.model_copy(update={"host_name": None}) == default
    return bool(config == default)


def for_processors(
    processors: list[tuple[str, ProcessorFn]], serializer: Callable[[Event], bytes]
) -> NativeChain | None:
    """The compiled chain if it reproduces ``processors`` (the default chain with default options)
    followed by ``serializer`` (the ECS document, ``ingest.document.serialize``); for the indexer's
    chain (``restore_shipper_host`` before ``add_metadata``) the one that fills in shippers' hosts."""
    from ingest import kafka_native_chain  # it builds on this module

    indexer_steps = kafka_native_chain.without_shipper_host(processors)
    if indexer_steps is not None:
        processors = indexer_steps
    names = tuple(name for name, _ in processors)
    expected = tuple(name for name, _ in COMPILED_CHAIN)
    if (
        serializer is not serialize
        or names != expected
        or not all(
            _is_default(processor, cls) for (_, processor), (_, cls) in zip(processors, COMPILED_CHAIN, strict=True)
        )
    ):
        log.debug("processing path: Python (the configured chain is not the default one)")
        return None
    if logferry_native is None:
        log.info("processing path: Python (logferry_native is not installed: pip install ./native)")
        return None
    metadata, redact = dict(processors)["add_metadata"], dict(processors)["redact"]
    assert isinstance(metadata, AddMetadata) and isinstance(redact, Redact)
    log.debug("processing path: compiled (logferry_native), Python for the lines it declines")
    if indexer_steps is None:
        return NativeChain(metadata, redact)
    return kafka_native_chain.ShipperHostChain(metadata, redact)
