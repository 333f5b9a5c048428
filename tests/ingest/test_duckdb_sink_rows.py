"""The DuckDB sink's typed columns are exactly what one JSON path per column reads from the document.

The sink reads its columns from the documents before DuckDB sees them (``store.columns``, compiled in
``native/src/columns.rs``); the reference here is DuckDB's own JSON reader, each column on its own with
``->>``, the plain meaning of the schema. Both run on the rows the sink
stored, for the real loggers' corpus, the sample generator and documents built to trip a parser
(columns of the wrong JSON type, keys differing only in case, nulls, huge numbers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from ingest.batch import Batcher
from ingest.config import BatchConfig
from ingest.deadletter import DeadLetterFile
from ingest.duckdb_sink import DuckDBSink
from logferry.assemble import assemble
from logferry.components import day_store
from logferry.config import load_settings
from logferry.sample import generate_lines
from store.day_store import DayStore
from store.schema import COLUMNS

pytestmark = pytest.mark.integration

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

# One JSON path per column, over the stored document: the schema's columns as written by hand.
COLUMNS_BY_PATH = """
    doc->>'$.event.id',
    CAST(doc->>'$."@timestamp"' AS TIMESTAMPTZ),
    doc->>'$.log.level',
    TRY_CAST(doc->'$.tags' AS VARCHAR[]),
    doc->>'$.user.id',
    doc->>'$.endpoint',
    doc->>'$.url.path',
    TRY_CAST(doc->>'$.http.response.status_code' AS INTEGER),
    doc->>'$.http.response.status_class',
    TRY_CAST(doc->>'$.event.duration' AS DOUBLE) / 1e6,
    doc->>'$.service.name',
    doc->>'$.error.type',
    doc->>'$.message',
    doc->>'$.host.name',
    doc->>'$.log.file.path',
    TRY_CAST(doc->>'$.log.offset' AS BIGINT),
    doc->>'$.error.message',
    doc->>'$.error.grouping_key',
    doc->>'$.trace.id',
    doc->>'$.http.request.method',
    doc
"""
STORED_COLUMNS = ", ".join([*(c.name for c in COLUMNS), "doc"])

AWKWARD_EVENTS: list[dict[str, Any]] = [
    {"log.level": {"nested": True}, "message": {"a": [1, 2]}, "tags": "not-a-list"},
    {"log": "flat string", "Message": "upper", "message": "lower", "LOG.LEVEL": "loud"},
    {"log.level": None, "message": None, "tags": [1, "a", None], "user.id": 42},
    {"http.response.status_code": "200", "event.duration": "1500000", "endpoint": ["x"]},
    {"http.response.status_code": 12345678901234567890123, "event.duration": 1e300, "url.path": 7.5},
    {"http.response.status_code": 404.0, "event.duration": -0.0, "service.name": '\u00e9\n\u2028"q"'},
    {"http.response": "flat", "error": {"type": None}, "url": [{"path": "/in-a-list"}]},
    {"tags": [], "error.type": "", "message": "", "user": {"ID": "case", "id": "lower"}},
    {"tags": [["nested"], {"o": 1}], "service": {"name": {"deep": "x"}}, "event.duration": True},
    {"log.offset": "17", "trace.id": 12, "http.request.method": ["GET"], "error.message": "a\\tb\u0000c"},
    {"log.offset": 2**63 - 1, "error.grouping_key": None, "host.name": {"name": "in an object"}},
    {"log.offset": -1.5, "error": {"message": {"nested": "x"}, "grouping_key": "fp-1"}, "host": "flat"},
]


def stored_rows(events_dir: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Every stored row as the table holds it, and as one JSON path per column reads its ``doc``."""
    store = DayStore(events_dir)
    rows, by_path = [], []
    for day in store.days():
        con = store.connect(day)
        try:
            rows.extend(con.execute(f"SELECT {STORED_COLUMNS} FROM events ORDER BY id").fetchall())
            by_path.extend(con.execute(f"SELECT {COLUMNS_BY_PATH} FROM events ORDER BY id").fetchall())
        finally:
            con.close()
    return rows, by_path


def ingest_files(tmp_path: Path, paths: list[Path]) -> Path:
    """``ingest`` as configured by default (compiled chain where it applies) into a real day store."""
    settings = load_settings(None, data_dir=tmp_path, input={"paths": [str(p) for p in paths]})
    assemble(settings, once=True).run(once=True)
    return day_store(settings).directory


def test_the_real_loggers_corpus_is_stored_with_the_columns_each_json_path_reads(tmp_path: Path) -> None:
    logs = sorted(CORPUS.glob("*.log"))
    assert len(logs) >= 10
    rows, by_path = stored_rows(ingest_files(tmp_path, logs))
    assert len(rows) >= 100
    assert rows == by_path


def test_the_sample_is_stored_with_the_columns_each_json_path_reads(tmp_path: Path) -> None:
    sample = tmp_path / "sample.log"
    sample.write_bytes(b"".join(line + b"\n" for _, line in generate_lines(3000, seed=11)))
    rows, by_path = stored_rows(ingest_files(tmp_path, [sample]))
    assert len(rows) == 3000
    assert {row[2] for row in rows} >= {"info", "error"}
    assert any(row[7] is not None for row in rows) and any(row[9] is not None for row in rows)
    assert rows == by_path


def test_documents_built_to_trip_the_extraction_are_stored_with_the_columns_each_json_path_reads(
    tmp_path: Path,
) -> None:
    sink = DuckDBSink(DayStore(tmp_path / "events"), DeadLetterFile(tmp_path / "dl.ndjson"))
    batcher = Batcher(BatchConfig())
    for i, fields in enumerate(AWKWARD_EVENTS):
        batcher.feed({"@timestamp": f"2026-11-20T10:00:{i:02d}.000Z", "event.id": f"awkward-{i}", **fields})
    batch = batcher.flush()
    assert batch is not None
    try:
        sink.write(batch)
    finally:
        sink.close()
    rows, by_path = stored_rows(tmp_path / "events")
    assert len(rows) == len(AWKWARD_EVENTS)
    assert rows == by_path


def test_a_batch_written_twice_is_stored_once_and_two_documents_with_one_id_are_two(tmp_path: Path) -> None:
    """Writing the same batch again (a retry) stores nothing twice; ids are not looked up (they are
    unique by construction: file identity + offset), so two documents sharing one are both kept."""
    sink = DuckDBSink(DayStore(tmp_path / "events"), DeadLetterFile(tmp_path / "dl.ndjson"))
    batcher = Batcher(BatchConfig())
    for i in range(4):
        batcher.feed({"@timestamp": f"2026-11-20T10:00:0{i}.000Z", "event.id": f"e{i}", "seq": i})
    batcher.feed({"@timestamp": "2026-11-20T10:00:09.000Z", "event.id": "e0", "seq": 99})
    batch = batcher.flush()
    assert batch is not None
    try:
        sink.write(batch)
        sink.write(batch)
    finally:
        sink.close()
    rows, _ = stored_rows(tmp_path / "events")
    assert sorted((row[0], orjson.loads(row[-1])["seq"]) for row in rows) == [
        ("e0", 0),
        ("e0", 99),
        ("e1", 1),
        ("e2", 2),
        ("e3", 3),
    ]
    assert not (tmp_path / "dl.ndjson").exists() or (tmp_path / "dl.ndjson").read_bytes() == b""
