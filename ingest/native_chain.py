"""The compiled transform: the configured chain in Rust (``native/``, module ``logferry_native``),
built from the processors' own options, with Python for what it cannot take.

Every processor that declares ``compiled`` has a Rust twin (``native/src/steps/<name>.rs``) built
from the same options (``core.processor.native_options``: the config as ``model_dump`` gives it),
plus what Python works out for the options the twin cannot read itself: a table per time zone
(``ingest/native_zones.py``) and each regex in the engine's syntax (``ingest/native_regex.py``).
The compiled chain covers the configured processors from ``decode_json`` up to the first one it
cannot take (a user's own processor, an option beyond it: a regex with lookaround …); from there on
each line's event is handed to the Python processors (``Parts``: finished on the pipeline's thread).
Start-up says in one info line what runs where; each line that leaves the compiled chain is counted
in ``logferry_component_events_total{component="compiled_chain", outcome="declined", reason}``: the
step that declined it, or ``python:<step>`` for the first step the configuration runs in Python.

Within the compiled steps a line the chain cannot turn into the very document (or event) the Python
processors would (an object its reader does not take: duplicate keys, integers beyond 64 bits, deep
nesting; rare time formats; non-ASCII text a ``key=value`` redaction would scan; field conflicts …)
is declined and goes through the Python processors whole, so the output is the same either way,
only faster. Lines that are not a JSON object (text, an array or scalar, broken JSON, invalid UTF-8
repaired with U+FFFD) are compiled as ``decode_json`` treats them.

A line without a readable time (no time field, or one that certainly does not parse:
``_dateparsefailure``) is stamped with the time of processing: the Python chain reads its clock there
(``parsers.timestamp.now_utc``), the compiled one has none and uses the block's ``event.ingested``,
taken when the block is processed. That ``@timestamp`` is the one value of a compiled document that is
not the Python chain's byte for byte, by construction; the parity tests compare it normalized, and
hold it to equal the line's ``event.ingested``.

The values the compiled ``redact`` masked come back with each block (``Parts.counts``, component
``redact``), so the ``redacted`` metric is the Python chain's whichever path a line took; so do the
facts of the metrics made from events of the documents it wrote (``Parts.facts``, counted in Rust by
``native/src/facts.rs`` as ``enrich.event_metrics.EventTally.observe`` counts a finished event).

Without the module (a checkout where ``./native`` was not installed) logferry still works on the
Python path and says so once at start.
"""

from __future__ import annotations

import logging
import os
import threading
import typing
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel

from core.chunk import Chunk, Lines
from core.config_types import Regexes, TimeZoneName
from core.event import Event, ProcessorFn
from core.outcomes import REDACTED, EventCounts
from core.processor import native_options
from enrich.event_metrics import bucket_bounds_ns
from enrich.metadata import AddMetadata
from ingest.document import serialize
from ingest.native_regex import translate
from ingest.native_zones import zone_table
from ingest.transform import CompiledRun, Count, Parts, PythonTransform, Serializer, Transform
from parsers.path_settings import ApplyPathSettings
from parsers.timestamp import now_utc

log = logging.getLogger("logferry.native")

COMPONENT = "compiled_chain"
DECLINED = "declined"

THREADS = 1 if (os.cpu_count() or 1) <= 2 else 2
"""Threads the compiled chain splits one block of file lines over (halves at once, order kept).

A pipeline already runs ``ingest.read_ahead.AHEAD`` blocks at once, each on a thread of its own; on
a 2-core machine splitting each block as well costs CPU and time (bench.pipeline b; figures in the
commit that set it). Where there are more cores, a block is split in two."""

_PATHS_REMEMBERED = 4096

try:
    import logferry_native
except ImportError:  # the Python path still works; see available()
    logferry_native = None


def available() -> bool:
    """Whether ``logferry_native`` is installed (``pip install ./native``)."""
    return logferry_native is not None


def _marked(annotation: Any, marker: Any) -> bool:
    """Whether a field's type is ``marker`` (an ``Annotated`` option type), also inside ``X | None``."""
    if annotation == marker:
        return True
    return any(_marked(argument, marker) for argument in typing.get_args(annotation))


def _option_values(model: BaseModel, marker: Any) -> list[str]:
    """Every value of an option typed ``marker`` in ``model`` and the models nested in it."""
    found: list[str] = []
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if _marked(info.rebuild_annotation(), marker):
            if isinstance(value, str):
                found.append(value)
            elif isinstance(value, tuple | list):
                found.extend(item for item in value if isinstance(item, str))
        elif isinstance(value, BaseModel):
            found += _option_values(value, marker)
        elif isinstance(value, tuple | list):
            for item in value:
                if isinstance(item, BaseModel):
                    found += _option_values(item, marker)
    return found


def native_support(processors: list[tuple[str, ProcessorFn]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The zone tables and translated regexes the options of ``processors`` name."""
    zones: dict[str, Any] = {}
    regexes: dict[str, Any] = {}
    for _, processor in processors:
        config = getattr(processor, "config", None)
        if not isinstance(config, BaseModel):
            continue
        for name in _option_values(config, TimeZoneName):
            zones[name] = zone_table(name)
        for pattern in _option_values(config, Regexes):
            regexes[pattern] = translate(pattern)
    return zones, regexes


def compiled_steps(
    processors: list[tuple[str, ProcessorFn]],
) -> tuple[list[tuple[str, dict[str, Any]]], tuple[str, str] | None, dict[str, Any], dict[str, Any]]:
    """The longest prefix of ``processors`` the compiled chain takes, as ``(name, options)``; the first
    step it does not take and why (None: it takes them all); and the zones and regexes it needs."""
    zones, regexes = native_support(processors)
    steps: list[tuple[str, dict[str, Any]]] = []
    for name, processor in processors:
        cls = type(processor)
        if not steps and name != "decode_json":
            return steps, (name, "the compiled chain starts with decode_json"), zones, regexes
        if not getattr(cls, "compiled", False) or getattr(cls, "name", None) != name:
            return steps, (name, "a processor without a compiled twin"), zones, regexes
        options = native_options(processor)
        refused = logferry_native.refusal(name, options, zones, regexes) if logferry_native else "not installed"
        if refused is not None:
            return steps, (name, refused), zones, regexes
        steps.append((name, options))
    return steps, None, zones, regexes


class CompiledTransform:
    """The compiled chain for the first ``covered`` processors, the Python ones after it (and for
    the lines it declines); see the module docstring."""

    concurrent = True

    def __init__(
        self, python: PythonTransform, chain: Any, covered: int, python_from: str | None, counts_facts: bool = False
    ) -> None:
        self.python = python
        self.chain = chain
        self.counts_facts = counts_facts
        """Whether the chain counts the metrics made from events of the documents it writes."""
        self.covered = covered
        self.writes_documents = covered == len(python.processors)
        self._handed_reason = f"python:{python_from}" if python_from else ""
        processors = [processor for _, processor in python.processors[:covered]]
        metadata = [p for p in processors if isinstance(p, AddMetadata)]
        self._ingested: Callable[[], str] = metadata[0].ingested_now if metadata else now_utc
        rules = [p for p in processors if isinstance(p, ApplyPathSettings) and p.config.rules]
        self._path_settings = rules[0] if rules else None
        self._settings_by_path: dict[str, tuple[str, str | None, str | None, tuple[str, ...]]] = {}
        """What the rules give each file, worked out once per file (globs cost microseconds a block)."""
        self.threads = THREADS
        self.processed = 0
        """Lines the compiled chain processed (documents, or events it handed on)."""
        self.declined = 0
        """Lines it declined (the Python processors processed them whole)."""
        self._tally_lock = threading.Lock()
        """``process`` runs on several threads at once (``ingest.read_ahead``), each tallying."""

    def process(self, chunk: Chunk) -> Parts:
        if chunk.lines is not None:
            return self.process_lines(chunk.lines)
        return self.process_events(chunk.events)

    def counts(self) -> dict[str, EventCounts]:
        return self.python.counts()

    def _settings(self, path: str) -> tuple[str, str | None, str | None, tuple[str, ...]] | None:
        """What ``apply_path_settings`` gives the file at ``path`` (its rules matched in Python)."""
        if self._path_settings is None:
            return None
        known = self._settings_by_path.get(path)
        if known is None:
            if len(self._settings_by_path) >= _PATHS_REMEMBERED:
                self._settings_by_path.clear()
            zone, service, tags = self._path_settings.settings_for(path)
            known = self._settings_by_path[path] = (path, zone, service, tags)
        return known

    def process_lines(self, lines: Lines) -> Parts:
        """A block of plain lines at once, the GIL released meanwhile; the lines read apart
        (``lines.special``: cut, partial) are declined without a look (their tags are Python's)."""
        count = len(lines)
        try:
            docs, stamps, ids, tags, declined, reasons, redacted = self.chain.process_lines(
                lines.lines,
                lines.source_id,
                lines.path,
                lines.first_offset,
                sorted(lines.special),
                self._ingested(),
                self.threads,
                getattr(lines, "host", None),
                self._settings(lines.path),
            )
        except UnicodeEncodeError:  # a path or host name that is not UTF-8 text: Python keeps it as it is
            return self._declined_whole(count, lines.event, "not_utf8")
        counts = self._count(count, declined, reasons, redacted)
        if not self.writes_documents:
            return Parts(count, self._finisher(docs, lines.event), counts=counts)

        def finish(index: int) -> Event:
            return self.python.run(lines.event(index))

        return Parts(count, finish, CompiledRun(docs, stamps, ids, tags), declined, counts, self._facts())

    def process_events(self, events: list[Event]) -> Parts:
        """Other sources' events (Kafka records that are not plain lines, stdin)."""
        count = len(events)
        settings = None
        if self._path_settings is not None:
            paths = {event.get("log.file.path") for event in events}
            settings = {path: self._settings(path) for path in paths if type(path) is str}
        results, reasons, redacted = self.chain.process(events, self._ingested(), settings)
        facts = self._facts()
        declined = sorted(reasons)
        counts = self._count(count, declined, [reasons[index] for index in declined], redacted)
        if not self.writes_documents:
            return Parts(count, self._finisher(results, events.__getitem__), counts=counts)
        docs: list[Any] = [None] * count
        stamps: list[Any] = [None] * count
        ids: list[Any] = [None] * count
        tags: list[Any] = [None] * count
        for index, result in enumerate(results):
            if result is not None:
                doc, stub = result
                docs[index], stamps[index], ids[index] = doc, stub["@timestamp"], stub["event.id"]
                line_tags = stub.get("tags")
                tags[index] = tuple(line_tags) if line_tags else None

        def finish(index: int) -> Event:
            return self.python.run(events[index])

        return Parts(count, finish, CompiledRun(docs, stamps, ids, tags), declined, counts, facts)

    def _facts(self) -> list[tuple[Any, ...]] | None:
        """The facts the chain counted in the call this thread just made (``native/src/facts.rs``)."""
        if not self.counts_facts:
            return None
        assert logferry_native is not None
        rows: list[tuple[Any, ...]] = logferry_native.take_facts()
        return rows

    def _finisher(self, handed: list[Any], source_event: Callable[[int], Event]) -> Callable[[int], Event]:
        """For a chain that hands its events on: each line's event through the Python processors
        after the chain, or, for a declined line, its source event through all of them."""
        covered, run = self.covered, self.python.run

        def finish(index: int) -> Event:
            event = handed[index]
            if type(event) is dict:
                return run(event, covered)
            return run(source_event(index))

        return finish

    def _count(self, count: int, declined: list[int], reasons: list[str], redacted: dict[int, int]) -> dict[Count, int]:
        counts: dict[Count, int] = {}
        for reason in reasons:
            key = (COMPONENT, DECLINED, reason)
            counts[key] = counts.get(key, 0) + 1
        handed = 0 if self.writes_documents else count - len(declined)
        if handed:
            counts[(COMPONENT, DECLINED, self._handed_reason)] = handed
        masked = sum(redacted.values())
        if masked:
            counts[("redact", REDACTED, "secret")] = masked
        with self._tally_lock:
            self.declined += len(declined)
            self.processed += count - len(declined)
        return counts

    def _declined_whole(self, count: int, source_event: Callable[[int], Event], reason: str) -> Parts:
        with self._tally_lock:
            self.declined += count
        return Parts(
            count, lambda index: self.python.run(source_event(index)), counts={(COMPONENT, DECLINED, reason): count}
        )


def compiled_transform(
    python: PythonTransform, fact_buckets: Sequence[float] | None = None
) -> CompiledTransform | None:
    """The compiled transform of ``python``'s processors, if the compiled chain takes at least
    ``decode_json`` of them and the documents are ECS (``ingest.document.serialize``); says at start
    what runs where. With ``fact_buckets`` (the metrics made from events are counted) the chain counts
    them for the documents it writes."""
    if python.serialize is not serialize or not python.processors:
        return None
    if logferry_native is None:
        log.info("processing path: Python (logferry_native is not installed: pip install ./native)")
        return None
    steps, refused, zones, regexes = compiled_steps(python.processors)
    if not steps:
        reason = f"{refused[0]}: {refused[1]}" if refused else "no processors"
        log.info("processing path: Python (%s)", reason)
        return None
    counts_facts = refused is None and fact_buckets is not None and hasattr(logferry_native, "take_facts")
    buckets = bucket_bounds_ns(fact_buckets) if counts_facts and fact_buckets is not None else None
    chain = logferry_native.Chain(steps, zones, regexes, refused is None, buckets)
    if refused is None:
        log.info("processing path: compiled (logferry_native) for all %d processors", len(steps))
        return CompiledTransform(python, chain, len(steps), None, counts_facts)
    log.info(
        "processing path: compiled for %s … %s, Python from %s on (%s)",
        steps[0][0],
        steps[-1][0],
        refused[0],
        refused[1],
    )
    return CompiledTransform(python, chain, len(steps), refused[0])


def transform_for(
    processors: list[tuple[str, ProcessorFn]], serializer: Serializer, fact_buckets: Sequence[float] | None = None
) -> Transform:
    """The compiled transform where the compiled chain takes at least the first of ``processors``,
    else the Python one; ``fact_buckets``: see ``compiled_transform``."""
    python = PythonTransform(processors, serializer)
    compiled = compiled_transform(python, fact_buckets)
    return compiled if compiled is not None else python


def raw_chain(processors: list[tuple[str, ProcessorFn]], *, serialize_documents: bool = True) -> Any:
    """The ``logferry_native.Chain`` of ``processors`` (all of which it must take), for tests and
    benchmarks that drive it directly."""
    steps, refused, zones, regexes = compiled_steps(processors)
    if refused is not None:
        raise ValueError(f"the compiled chain does not take {refused[0]}: {refused[1]}")
    return logferry_native.Chain(steps, zones, regexes, serialize_documents)
