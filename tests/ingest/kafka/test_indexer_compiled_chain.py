"""The indexer's chain (default chain + ``restore_shipper_host``) runs compiled and writes the Python chain's documents.

Records as shippers send them (``record_headers``: several shipper hosts, a record without a host
header, one whose host is not UTF-8, source tags) are rebuilt with ``event_from_record`` and go through
both the indexer's Python chain (``logferry.assemble.processors_for`` with a Kafka source) and the
compiled transform ``ingest.native_chain.transform_for`` picks for it (the shipper's host passed with
each block). Every document the compiled side writes must be byte for byte the Python one; a line it
declines must come back untouched, so that the Python chain then sees exactly what it would have.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from core.chunk import Chunk
from core.keys import RAW, SOURCE_ID
from core.tags import TRUNCATED_TAG
from enrich.event_metrics import DEFAULT_BUCKETS, EventTally
from ingest.document import serialize
from ingest.kafka_wire import H_HOST, SHIPPER_HOST, ShippedLines, event_from_record, record_headers
from ingest.native_chain import CompiledTransform, transform_for
from ingest.transform import CompiledRun, Parts, PythonTransform
from logferry.assemble import RESTORE_HOST, processors_for
from logferry.config import load_settings
from parsers.timestamp import now_utc
from tests.golden.chain_golden import HOST, INGEST_TIME, INGESTED, run_chain
from tests.test_fast_path_differential import ROWS, native_module

INDEXER_SETTINGS = load_settings(None, source={"type": "kafka"}, processors={"add_metadata": {"host_name": HOST}})
SHIPPERS: list[bytes | None] = [b"shipper-a", b"shipper-b", None, b"shipper-a", b"caf\xe9-host"]
"""Per record, round robin: the shipper's host header (None: a record without one)."""

ODD_LINES = [
    b'{"time":"2026-11-20T10:00:00Z","msg":"own nested host","host":{"name":"app-3"}}',
    b'{"time":"2026-11-20T10:00:01Z","msg":"own flat host","host.name":"app-4"}',
    b'{"time":"2026-11-20T10:00:02Z","msg":"a string host","host":"app-5"}',
    b'{"time":"2026-11-20T10:00:03Z","msg":"forged","@shipper_host":"forged-host"}',
    b'{"time":"2026-11-20T10:00:04Z","msg":"escaped","\\u0040shipper_host":"forged-host"}',
    b'{"time":"2026-11-20T10:00:05Z","msg":"nested","a":{"@shipper_host":"x"}}',
    b'{"time":"2026-11-20T10:00:06Z","msg":"plain","level":"info"}',
]


def records(lines: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    """The indexer's initial events of these lines, as shipped (every 11th carries a source tag)."""
    events = []
    for index, (path, line) in enumerate(lines):
        shipped = {RAW: line, SOURCE_ID: f"2049:{index % 5}:kafka", "log.file.path": path, "log.offset": index * 100}
        host = SHIPPERS[index % len(SHIPPERS)]
        headers = record_headers(shipped, host or b"", (TRUNCATED_TAG,) if index % 11 == 10 else ())
        if host is None:
            headers = [(name, value) for name, value in headers if name != H_HOST]
        events.append(event_from_record(line, headers, "lines", index % 3, index))
    return events


def python_document(chain: list[tuple[str, Any]], event: dict[str, Any]) -> bytes:
    """The Python chain's document, the times of processing (``event.ingested``, and ``@timestamp``
    when the line has no readable time: the clock's) normalized to ``INGEST_TIME``."""
    started = now_utc()
    out = run_chain(chain, copy.deepcopy(event))
    ended = now_utc()
    assert out is not None
    stamp = out.get("@timestamp")
    if type(stamp) is str and started <= stamp <= ended:
        out["@timestamp"] = INGEST_TIME
    return INGESTED.sub(b'"ingested":"' + INGEST_TIME.encode() + b'"', serialize(out))


def compiled_document(doc: bytes) -> bytes:
    """The compiled chain's document normalized as ``python_document``: it stamps a line without a
    readable time with the block's ``event.ingested``."""
    shipped = orjson.loads(doc)
    ingested = shipped["event"]["ingested"]
    if shipped["@timestamp"] == ingested:
        stamp = b'"@timestamp":"' + ingested.encode() + b'"'
        doc = doc.replace(stamp, b'"@timestamp":"' + INGEST_TIME.encode() + b'"', 1)
    return INGESTED.sub(b'"ingested":"' + INGEST_TIME.encode() + b'"', doc)


def compiled_chain() -> CompiledTransform:
    native_module()  # skips without the module, unless the run requires it
    transform = transform_for(processors_for(INDEXER_SETTINGS), serialize)
    assert isinstance(transform, CompiledTransform) and transform.writes_documents, "the indexer's chain runs in Python"
    return transform


def test_the_indexers_chain_is_the_default_chain_plus_the_host_step_all_compiled() -> None:
    indexer = [name for name, _ in processors_for(INDEXER_SETTINGS)]
    at = indexer.index("add_metadata")
    assert indexer[at - 1] == RESTORE_HOST
    assert indexer[: at - 1] + indexer[at:] == INDEXER_SETTINGS.pipeline
    assert compiled_chain().covered == len(indexer)
    without_metadata = load_settings(None, source={"type": "kafka"}, pipeline=["decode_json", "assign_id"])
    steps = processors_for(without_metadata)
    assert steps[0][0] == RESTORE_HOST, "only removing the key, before anything reads the line"
    assert isinstance(transform_for(steps, serialize), PythonTransform), "the compiled chain starts with decoding"


def outcomes(parts: Parts) -> list[tuple[bytes, str] | None]:
    """Per line of ``parts``: the compiled document and event id, or None where it is left to Python."""
    assert parts.compiled is not None
    return [
        None if index in parts.pending else (doc, event_id)
        for index, (doc, event_id) in enumerate(zip(parts.compiled.docs, parts.compiled.ids, strict=True))
    ]


def test_indexer_events_go_through_the_compiled_chain_with_each_shippers_host() -> None:
    chain = compiled_chain()
    lines = [(path, line) for path, line in ROWS] + [("/var/log/odd.log", line) for line in ODD_LINES]
    events = records(lines)
    originals = copy.deepcopy(events)
    python = processors_for(INDEXER_SETTINGS)
    results = outcomes(chain.process(Chunk(("lines:0", ""), events, len(events), 0)))
    assert len(results) == len(events)
    mismatches, hosts = [], set()
    sample = declined_sample = 0
    for event, original, result in zip(events, originals, results, strict=True):
        # The realistic sample's lines with a readable host and no source tag must run compiled.
        in_sample = original.get("log.file.path", "").startswith("/var/log/app/") and "tags" not in original
        in_sample = in_sample and original.get(SHIPPER_HOST, "").isascii()
        sample += in_sample
        if result is None:
            assert event == original, "a declined event must reach the Python chain as it came"
            declined_sample += in_sample
            continue
        doc, event_id = result
        normalized = compiled_document(doc)
        expected = python_document(python, original)
        if normalized != expected:
            line = original[RAW][:160]
            mismatches.append(f"{line!r}\n  python   {expected[:600]!r}\n  compiled {normalized[:600]!r}")
        parsed = orjson.loads(doc)
        assert event_id == parsed["event"]["id"]
        hosts.add(str(parsed.get("host", {}).get("name")))
    assert not mismatches, f"{len(mismatches)} documents differ; first ones:\n" + "\n".join(mismatches[:5])
    assert {"shipper-a", "shipper-b", HOST} <= hosts
    assert sample > 1000
    assert declined_sample < sample * 0.05, f"{declined_sample} of {sample} sample lines declined"
    assert chain.processed == len(events) - chain.declined == len(events) - results.count(None)


@pytest.mark.parametrize("line", ODD_LINES[3:6], ids=["forged", "escaped", "nested"])
@pytest.mark.parametrize("host", [b"shipper-a", None], ids=["host-header", "no-host-header"])
def test_a_line_with_its_own_shipper_host_key_gets_the_python_chains_document(line: bytes, host: bytes | None) -> None:
    """The Python chain takes the line's own ``@shipper_host`` for the header's (or for the missing
    header); the compiled side does the same, and does not keep the key."""
    chain = compiled_chain()
    headers = [("source_id", b"2049:1:kafka"), ("offset", b"0"), *([(H_HOST, host)] if host else [])]
    event = event_from_record(line, headers, "lines", 0, 0)
    (result,) = outcomes(chain.process(Chunk(("lines:0", ""), [copy.deepcopy(event)], 1, 0)))
    expected = python_document(processors_for(INDEXER_SETTINGS), event)
    assert result is not None, "compiled"
    assert compiled_document(result[0]) == expected
    assert b"forged-host" not in expected or host is None


def test_runs_of_shipped_lines_go_through_the_compiled_chain_with_their_shippers_host() -> None:
    """The Kafka source's runs of plain lines (``ShippedLines``): the Python chain's documents, in order."""
    chain = compiled_chain()
    python = processors_for(INDEXER_SETTINGS)
    by_path: dict[str, list[bytes]] = {}
    for path, line in ROWS:
        if b"\n" not in line:
            by_path.setdefault(path, []).append(line)
    by_path["/var/log/odd.log"] = ODD_LINES
    compiled = declined = 0
    for number, (path, lines) in enumerate(sorted(by_path.items())):
        host = ["shipper-a", "shipper-b"][number % 2]
        run = ShippedLines(lines, f"2049:{number}:run", path, 4096, host)
        parts = chain.process(Chunk.of_lines(("lines:0", ""), run, 0, 0))
        assert parts.compiled is not None
        docs, stamps, ids, tags = parts.compiled
        declined_at = parts.pending
        assert len(docs) == len(stamps) == len(ids) == len(tags) == len(lines)
        assert declined_at == sorted(declined_at)
        for at, doc in enumerate(docs):
            event = run.event(at)
            assert event[SHIPPER_HOST] == host and event["log.offset"] == run.offset(at)
            if doc is None:
                assert at in declined_at
                declined += 1
                continue
            compiled += 1
            assert compiled_document(doc) == python_document(python, event), (path, at, lines[at][:200])
            assert orjson.loads(doc)["event"]["id"] == ids[at]
    assert compiled > 2000 and declined > 0


@pytest.mark.parametrize("as_lines", [False, True], ids=["events", "shipped-lines"])
def test_the_indexers_compiled_chain_counts_the_metrics_the_python_chain_counts(as_lines: bool) -> None:
    """What the compiled side counts for the documents it writes, plus what the Python processors count
    of the lines they finish (declined, or naming ``@shipper_host``), is what the Python chain alone counts."""
    native_module()
    compiled = transform_for(processors_for(INDEXER_SETTINGS), serialize, DEFAULT_BUCKETS)
    assert isinstance(compiled, CompiledTransform) and compiled.counts_facts
    python = PythonTransform(processors_for(INDEXER_SETTINGS), serialize)
    lines = [(path, line) for path, line in ROWS if b"\n" not in line] + [("/o.log", line) for line in ODD_LINES]

    def chunk() -> Chunk:
        if as_lines:
            block = ShippedLines([line for _, line in lines], "2049:1:run", "/var/log/app/x.log", 0, "shipper-a")
            return Chunk.of_lines(("lines", "0"), block, 0, 0)
        return Chunk(("lines", "0"), records(lines), 0, 0)

    def tally(transform: Any) -> dict[Any, Any]:
        counted = EventTally()
        parts = transform.process(chunk())
        for item in parts.items():
            if not isinstance(item, CompiledRun):
                counted.observe(item)
        counted.add_facts(parts.facts or [])
        return counted.take()

    got = tally(compiled)
    assert got == tally(python)
    assert compiled.declined > 0, "no line went to the Python chain: the test shows nothing"
    assert sum(n for n, _, _ in got.values()) == len(lines)
