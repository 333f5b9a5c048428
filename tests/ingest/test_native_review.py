"""Review of the compiled chain's speed work: adversarial lines against the Python chain, a stop while
blocks run ahead, an indexer partition of lines, events and lines again, and the state the chain's
thread shares with the Python chain.

The parity tests feed lines chosen to reach the corners of the new code: document plans per event
shape (dotted names with empty or repeated parts, names that meet in objects, null parents, more than
64 fields, more shapes than the plan cache holds), the decode of non-object and non-UTF-8 lines (line
ends, NUL, byte order marks, escaped names) and the time stamp (texts Python's ``fromisoformat`` and
epoch reading may or may not take). Each block runs on one thread and split over two, every shape at
least twice so that its plan (and the Python chain's shape builder) is used.
"""

from __future__ import annotations

import functools
import inspect
import random
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from core.chunk import Chunk, Position
from core.keys import RAW, SOURCE_ID
from core.outcomes import EventCounts
from core.tags import TRUNCATED_TAG
from enrich.metadata import AddMetadata
from ingest.batch import Batch, Batcher
from ingest.file_source import FileSource
from ingest.kafka_wire import ShippedLines, event_from_record, record_headers
from ingest.native_chain import CompiledTransform
from ingest.pipeline import Pipeline
from ingest.registry import Registry
from ingest.transform import PythonTransform
from logferry.assemble import build_processors, processors_for
from logferry.config import load_settings
from logferry.sample import generate_lines
from parsers.timestamp import now_utc
from tests.golden.chain_golden import _NAMES, HOST
from tests.ingest.test_native_lines import native_chain_of
from tests.ingest.test_native_pipeline import (
    INGESTED,
    KeepingSink,
    _wrapped,
    needs_native,
    rerun_after,
    small_blocks,
    write_log,
)
from tests.ingest.test_native_plain_lines import _SAMPLE, compare_block

TIME = b'"time":"2026-11-20T10:00:00Z"'
BAD = b"\xe9"

NESTING = [
    b'{"a..b":1,' + TIME + b"}",
    b'{".a":1,' + TIME + b"}",
    b'{"a.":1,' + TIME + b"}",
    b'{".":1,"..":2,' + TIME + b"}",
    b'{"":1,' + TIME + b"}",
    b'{"a":null,"a.b":1,' + TIME + b"}",
    b'{"a.b":null,"a.b.c":1,' + TIME + b"}",
    b'{"a":{"b.c":1},"a.b":2,' + TIME + b"}",
    b'{"a":{"b":1},"a.b":2,' + TIME + b"}",
    b'{"a":{"b":1},"a.c":2,' + TIME + b"}",
    b'{"a.b":2,"a":{"b":1},' + TIME + b"}",
    b'{"a.b":2,"a":{"c":1},' + TIME + b"}",
    b'{"a":{},"a.b":1,' + TIME + b"}",
    b'{"a.b":1,"a":{},' + TIME + b"}",
    b'{"a.b":{},"a.b.c":1,' + TIME + b"}",
    b'{"a.b.c":1,"a.b":{},' + TIME + b"}",
    b'{"x":[{"a.b":1}],' + TIME + b"}",
    b'{"host":{"name":"own"},' + TIME + b"}",
    b'{"host":{"name":null},' + TIME + b"}",
    b'{"host":{},' + TIME + b"}",
    b'{"host.name":"own",' + TIME + b"}",
    b'{"log":{"offset":5},' + TIME + b"}",
    b'{"event":"x","log":"y",' + TIME + b"}",
    b'{"event":null,' + TIME + b"}",
    b'{"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p":1,' + TIME + b"}",
    b'{"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q":1,' + TIME + b"}",
    b'{"@timestamp.x":1,' + TIME + b"}",
    b'{"\\u00e9.\\u00e9":1,"\xc3\xa9.x":2,' + TIME + b"}",
]
ESCAPES_AND_BYTES = [
    b'{"lev\\u0065l":"warn",' + TIME + b"}",
    b'{"m\\u0073g":"hi",' + TIME + b"}",
    b'{"a\\u002eb":1,' + TIME + b"}",
    b'{"msg":"a","m\\u0073g":"b",' + TIME + b"}",
    b'{"foo":"a","f\\u006fo":"b",' + TIME + b"}",
    b'{"a":{"x":1,"\\u0078":2},' + TIME + b"}",
    b'{"\\ud83d\\ude00":1,' + TIME + b"}",
    b'{"msg":"a\\u0000b","m\\u0000sg":"x",' + TIME + b"}",
    b'{"msg":"a\x00b",' + TIME + b"}",
    b'{"msg":"x",' + TIME + b"}\x00",
    b"\x00",
    b"\x00{}",
    b"\xef\xbb\xbf",
    b"\xef\xbb\xbfplain",
    b"\xef\xbb\xbf\xef\xbb\xbf{}",
    b'{"msg":"\xef\xbb\xbf",' + TIME + b"}",
    b'{"msg":"x\r",' + TIME + b"}\r",
    b"a\rb",
    b"\r\r",
    b"\r \r",
    b"x\r\x00",
    b'{"msg":"caf' + BAD + b'"}\r\r',
    b'{"msg":"caf' + BAD + b'"} \r',
    b"caf" + BAD + b" \r ",
    b'{"log.offset":1,"msg":"caf' + BAD + b'",' + TIME + b"}",
    b'{"log.file.path":"p","msg":"caf' + BAD + b'",' + TIME + b"}",
    b'{"msg":"caf' + BAD + b'","tags":["a","_utf8error"],' + TIME + b"}",
    b'{"msg":"caf' + BAD + b'","tags":[null,1,"x"],' + TIME + b"}",
    b'{"msg":"caf' + BAD + b'","tags":{"a":1},' + TIME + b"}",
    b'{"tags":["x"],"msg":"caf' + BAD + b'"}',
    b'{"m' + BAD + b'":"x","m\xef\xbf\xbd":"y",' + TIME + b"}",
    b'{"k' + BAD + b'":"x",' + TIME + b"}",
    b'{"text":"t' + BAD + b'","record":{"level":{"name":"INFO"},"time":{"repr":"2026-11-20 10:00:00+00:00"},'
    b'"message":"m"}}',
    b'{"msg":"x"}' + BAD,
    b'{"time":"2026-11-20T10:00:00Z' + BAD + b'","msg":"x"}',
    b'{"k":1e400,' + TIME + b"}",
    b'{"k":-0.0,"j":1E2,"i":5e-324,' + TIME + b"}",
    b'{"k":18446744073709551615,' + TIME + b"}",
    b'{"k":NaN}',
    b'{"msg":"x",' + TIME + b"}}",
]
TIMES: list[Any] = [
    "2026-11-20",
    "20261120",
    "2026-W47-5",
    "2026-324",
    "2026-11-20T10",
    "2026-11-20T1000",
    "2026-11-20T10:00:00.1234567",
    "2026-11-20T10:00:00+05",
    "2026-11-20 10:00:00 +02:00",
    "2026-11-20t10:00:00z",
    "2026-11-20T24:00:00",
    "2026-11-20T10:00:00:1234",
    "2026-11-20T10:00:00+02:00:30.5",
    "2026-11-20T10:00:60Z",
    "2026-02-29T10:00:00Z",
    "\u20032026-11-20T10:00:00Z",
    "\u00a02026-11-20T10:00:00Z",
    "\x1c2026-11-20T10:00:00Z",
    "\x0b1795348800",
    " 1795348800 ",
    "+1795348800",
    "1795348800.",
    ".5",
    "1e9",
    "1_795_348_800",
    "\u0661\u0662",
    "Infinity",
    "1e400",
    "1795348800123456789",
    "2100-12-31T23:59:59.999Z",
    "2101-01-01T00:00:00Z",
    "1970-01-01T00:00:00+01:00",
    "2026-11-20T10:00:00.99999999Z",
    "\uff12\uff10\uff12\uff16-11-20T10:00:00Z",
    "2026-11-20T10:00:00+24:00",
    1795348800.0005,
    1795348800.0015,
    1e14 - 1,
    1e17,
    4102444799999,
    99999999999.9,
    2**63 - 1,
    -(2**63),
]


def _time_lines() -> list[bytes]:
    lines = []
    for value in TIMES:
        lines.append(orjson.dumps({"msg": "m", "time": value}))
        lines.append(orjson.dumps({"msg": "m", "@timestamp": value}))
        lines.append(orjson.dumps({"ts": value, "time": "2026-11-20T10:00:00Z"}))
    return lines


def _wide_lines() -> list[bytes]:
    """Events of 1 to 300 fields (the event's room is 64), flat and dotted, with the chain's names."""
    lines = []
    for count in (1, 55, 60, 63, 64, 65, 66, 100, 129, 300):
        lines.append(orjson.dumps({**{f"f{i}": i for i in range(count)}, "time": "2026-11-20T10:00:00Z"}))
        lines.append(orjson.dumps({**{f"g{i % 5}.f{i}": i for i in range(count)}, "time": "2026-11-20T10:00:00Z"}))
        known = {"msg": "m", "level": "warn", "status": 200, "method": "GET", "url": "/a?b=1", "duration_ms": 3}
        lines.append(orjson.dumps({**known, **{f"x.y{i}": i for i in range(count)}, "time": "2026-11-20T10:00:00Z"}))
    return lines


@functools.cache
def review_lines() -> list[bytes]:
    """Every adversarial line twice, the second time after the others (its shape then known)."""
    once = [*NESTING, *ESCAPES_AND_BYTES, *_time_lines(), *_wide_lines()]
    return once + once


@pytest.mark.parametrize("threads", [1, 2])
def test_adversarial_lines_are_compiled_as_the_python_chain_processes_them_or_declined(threads: int) -> None:
    lines = review_lines()
    if threads == 2:
        lines = lines + _SAMPLE * 3  # over THREADED_MIN_LINES: the block is split over two threads
        assert len(lines) >= 512
    compiled = compare_block(native_chain_of(), lines, threads=threads)
    assert len(compiled) > len(lines) // 2, "most of them are compiled, not declined"


def test_a_difference_on_the_adversarial_lines_is_detected() -> None:
    """The comparison can fail: a chain writing another host name differs on the first compiled line."""
    with pytest.raises(AssertionError):
        compare_block(native_chain_of("another-host"), review_lines()[:20])


def test_more_shapes_than_the_plan_cache_holds_then_known_ones_again() -> None:
    """5000 shapes (the per-thread cache of plans starts over at 4096), then the first 700 again,
    each named once with the chain's known names around it; on one thread and on two."""
    chain = native_chain_of()
    lines = [
        orjson.dumps({"msg": "x", f"k{shape}": 1, "level": "info", "time": "2026-11-20T10:00:00Z"})
        for shape in range(5000)
    ]
    lines += lines[:700]
    for threads in (1, 2):
        assert len(compare_block(chain, lines, threads=threads)) == len(lines)


def test_names_from_the_processors_name_pool_in_every_order_and_nesting() -> None:
    """Shapes over the field names the processors read and odd dotted names, values nested with
    such names inside, drawn with a fixed seed; each shape two or three times."""
    rng = random.Random(7)
    odd = [
        "a",
        "a.b",
        "a.b.c",
        "a..b",
        ".a",
        "a.",
        ".",
        "",
        "host",
        "host.name",
        "event",
        "event.x",
        "log",
        "log.x",
        "tags",
        "error",
        "error.x",
        "http",
        "http.x",
        "url.x",
        "user",
        "service",
        "labels.a",
        "x.y",
        "time.x",
    ]
    pool = list(_NAMES) + odd
    scalars: list[Any] = [
        None,
        True,
        0,
        200,
        404,
        1.5,
        2**40,
        "",
        "x",
        "GET",
        "/a/b?c=1",
        "1.2.3.4:80",
        "WARN",
        "caf\u00e9",
        "500",
        [],
        {},
        ["a"],
        [1, {"a.b": 1}],
        "2026-11-20T10:00:00Z",
        1795348800,
    ]

    def value(depth: int) -> Any:
        if depth < 2 and rng.random() < 0.15:
            return {rng.choice(pool): value(depth + 1) for _ in range(rng.randint(0, 3))}
        return rng.choice(scalars)

    lines = []
    for _ in range(250):
        names = list(dict.fromkeys(rng.choice(pool) for _ in range(rng.randint(1, 9))))
        for _ in range(rng.randint(2, 3)):
            lines.append(orjson.dumps({name: value(0) for name in names}))
    chain = native_chain_of()
    for threads in (1, 2):
        assert len(compare_block(chain, lines, threads=threads)) > len(lines) // 3


# ---------------------------------------------------------------------------------------------------
# The pipeline: a stop while blocks run ahead.


class StoppingSink(KeepingSink):
    """Keeps documents and sets the pipeline's stop once it holds ``after`` of them."""

    def __init__(self, stop: threading.Event, after: int) -> None:
        super().__init__()
        self.stop = stop
        self.after = after

    def write(self, batch: Batch) -> None:
        super().write(batch)
        if len(self.docs) >= self.after:
            self.stop.set()


def test_a_stop_while_blocks_run_ahead_loses_no_line_and_acks_only_stored_lines(tmp_path: Path) -> None:
    """Stopped from the writer while the reading thread has a block in flight: the lines stored are the
    file's first ones in order, the acknowledged offset is the end of a stored line, and the next run
    stores every line from there: no line lost."""
    needs_native()
    log = write_log(tmp_path / "app.log", 6000)
    settings = small_blocks(tmp_path, log, max_events=100)
    stop = threading.Event()
    first_sink = StoppingSink(stop, after=1000)
    source = FileSource(settings.input, Registry(settings.data_dir / "registry.json"), once=True)
    pipeline = Pipeline(source, build_processors(settings), Batcher(settings.batch), first_sink, stop=stop)
    assert isinstance(pipeline.transform, CompiledTransform)
    pipeline.run(once=True)
    first, acked, second, line_starts = rerun_after(settings, log, first_sink)
    assert 1000 <= len(first) < 6000, "stopped part way"
    assert first == line_starts[: len(first)], "the first run stored the file's first lines, in order"
    assert acked in line_starts[1 : len(first) + 1], "acknowledged up to a stored line's end, no further"
    assert second == [start for start in line_starts if start >= acked], "the next run stores the rest"


# ---------------------------------------------------------------------------------------------------
# State shared by the chain's thread and the Python chain.


def _interleaved_ingested_now(metadata: AddMetadata, clock_of: dict[int, float]) -> tuple[str, str]:
    """``metadata.ingested_now()`` on this thread (its clock at the end of a second) with another
    thread's call (its clock in the next second) run where the GIL may switch threads: just before
    the result is formatted. Both results, this thread's first."""
    source, first_line = inspect.getsourcelines(AddMetadata.ingested_now)
    switch_at = first_line + next(at for at, text in enumerate(source) if text.lstrip().startswith("return "))
    go, done = threading.Event(), threading.Event()
    results: dict[str, str] = {}

    def other_thread() -> None:
        clock_of[threading.get_ident()] = 1795348800.001
        if go.wait(10):
            results["other"] = metadata.ingested_now()
        done.set()

    def trace_lines(frame: Any, event: str, arg: Any) -> Any:
        if event == "line" and frame.f_lineno == switch_at and not go.is_set():
            go.set()
            done.wait(10)
        return trace_lines

    def trace_calls(frame: Any, event: str, arg: Any) -> Any:
        return trace_lines if frame.f_code is AddMetadata.ingested_now.__code__ else None

    other = threading.Thread(target=other_thread)
    other.start()
    clock_of[threading.get_ident()] = 1795348799.999
    previous = sys.gettrace()
    sys.settrace(trace_calls)
    try:
        mine = metadata.ingested_now()
    finally:
        sys.settrace(previous)
        go.set()
        other.join(10)
    return mine, results["other"]


def test_event_ingested_read_on_two_threads_at_a_second_boundary_keeps_each_threads_second() -> None:
    clock_of: dict[int, float] = {}
    metadata = AddMetadata(AddMetadata.Config(host_name=HOST), clock=lambda: clock_of[threading.get_ident()])
    mine, other = _interleaved_ingested_now(metadata, clock_of)
    assert other == "2026-11-22T12:00:00.001Z"
    assert mine == time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1795348799)) + ".999Z"


# ---------------------------------------------------------------------------------------------------
# The indexer: runs of shipped lines, then rebuilt events, then lines again, on one partition.


class PartitionSource:
    """One Kafka partition's chunks as ``KafkaSource._chunks`` makes them (runs of one shipper's lines
    as ``ShippedLines``, other records as events), handed out once; the acks it is given, in order."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self.chunks = chunks
        self.acks: list[dict[Position, int]] = []
        self.counts = EventCounts()

    def poll(self, budget_bytes: int = 0) -> Iterator[Chunk]:
        chunks, self.chunks = self.chunks, []
        yield from chunks

    def ack(self, positions: dict[Position, int]) -> None:
        self.acks.append(dict(positions))

    def bytes_behind(self) -> dict[str, int]:
        return {}

    def done(self) -> bool:
        return not self.chunks

    def close(self) -> None:
        return None


@functools.cache
def partition_sample() -> list[bytes]:
    """The sample's lines, drawn once: their times follow the clock."""
    return [line for _, line in generate_lines(1500, seed=13)]


def partition_chunks() -> list[Chunk]:
    """Runs of 600 and 300 sample lines (the first over two threads) between chunks of records that
    are not plain lines (a tagged line, a record without headers): the order a partition hands them."""
    position = ("lines:0", "")
    sample = partition_sample()
    chunks: list[Chunk] = []
    record = 0
    for at, (start, count, host) in enumerate(
        [(0, 600, "shipper-a"), (600, 300, "shipper-b"), (900, 600, "shipper-a")]
    ):
        lines = sample[start : start + count]
        shipped = ShippedLines(lines, "2049:7:kafka", "/var/log/app.log", start * 1000, host)
        record += count
        chunks.append(Chunk.of_lines(position, shipped, record, sum(map(len, lines))))
        events = []
        for line in sample[start : start + 3]:
            shipped_event = {
                RAW: line,
                SOURCE_ID: "2049:8:kafka",
                "log.file.path": "/var/log/b.log",
                "log.offset": record,
            }
            headers = record_headers(shipped_event, host.encode(), (TRUNCATED_TAG,) if at != 1 else ())
            events.append(event_from_record(line, headers if at != 2 else None, "lines", 0, record))
            record += 1
        chunks.append(Chunk(position, events, record, sum(map(len, sample[start : start + 3]))))
    return chunks


def run_times_out(doc: bytes, run: tuple[str, Any, str]) -> bytes:
    """The document without ``event.ingested`` and without an ``@timestamp`` taken during ``run``
    (a line without a readable time: the Python chain's clock, the compiled chain's block time)."""
    stamp = orjson.loads(doc)["@timestamp"]
    if run[0] <= stamp <= run[2]:
        doc = doc.replace(b'"@timestamp":"' + stamp.encode() + b'"', b'"@timestamp":null', 1)
    return INGESTED.sub(b"", doc)


def test_an_indexer_partition_of_lines_events_and_lines_is_stored_in_order_and_acked_in_order() -> None:
    """The indexer's chain compiled (blocks run ahead) stores what its Python chain stores, record for
    record in partition order, and the partition's offsets are acknowledged only ever forward, to its end."""
    needs_native()
    settings = load_settings(None, source={"type": "kafka"}, processors={"add_metadata": {"host_name": HOST}})
    batch = load_settings(None, batch={"max_events": 128}).batch
    compiled_source, compiled_sink = PartitionSource(partition_chunks()), KeepingSink()
    compiled = Pipeline(compiled_source, processors_for(settings), Batcher(batch), compiled_sink)
    assert isinstance(compiled.transform, CompiledTransform) and compiled.transform.writes_documents
    compiled_run = now_utc(), compiled.run(once=True), now_utc()
    python_source, python_sink = PartitionSource(partition_chunks()), KeepingSink()
    wrapped = [(name, _wrapped(processor)) for name, processor in processors_for(settings)]
    python = Pipeline(python_source, wrapped, Batcher(batch), python_sink)
    assert isinstance(python.transform, PythonTransform)
    python_run = now_utc(), python.run(once=True), now_utc()

    assert compiled.transform.processed > 1000
    assert len(compiled_sink.docs) == len(python_sink.docs) == 1509
    for got, expected in zip(compiled_sink.docs, python_sink.docs, strict=True):
        assert run_times_out(got, compiled_run) == run_times_out(expected, python_run)
    acked = [positions[("lines:0", "")] for positions in compiled_source.acks if positions]
    assert acked == sorted(acked) and acked[-1] == 1509
