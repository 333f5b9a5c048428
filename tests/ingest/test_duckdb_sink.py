"""The DuckDB sink on a real file: a document DuckDB refuses by itself is the only one dead-lettered."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from core.outcomes import DEAD_LETTERED, REFUSED
from ingest.batch import Batcher
from ingest.config import BatchConfig
from ingest.deadletter import DeadLetterFile
from ingest.duckdb_sink import DuckDBSink
from store.day_store import DayStore, StoreBusy
from tests.ingest.helpers import stored_docs

pytestmark = pytest.mark.integration


def write_events(tmp_path: Path, events: list[dict[str, object]], times: int = 1) -> tuple[DuckDBSink, DeadLetterFile]:
    """One batch of ``events`` written ``times`` into a store under ``tmp_path``; the sink is closed after."""
    deadletter = DeadLetterFile(tmp_path / "deadletter.ndjson")
    sink = DuckDBSink(DayStore(tmp_path / "events"), deadletter)
    batcher = Batcher(BatchConfig(max_events=100_000))
    for event in events:
        batcher.feed(event)
    batch = batcher.flush()
    assert batch is not None
    try:
        for _ in range(times):
            sink.write(batch)
    finally:
        sink.close()
    return sink, deadletter


def stamp(i: int) -> str:
    return f"2026-11-20T10:{i // 60 % 60:02d}:{i % 60:02d}.000Z"


def test_a_document_duckdb_refuses_is_dead_lettered_and_the_rest_of_the_batch_is_stored(tmp_path: Path) -> None:
    events: list[dict[str, object]] = [{"@timestamp": stamp(i), "event.id": f"e{i}", "seq": i} for i in range(5)]
    events.append({"@timestamp": "2026-11-20Tnot-a-time", "event.id": "bad", "seq": 99})
    sink, deadletter = write_events(tmp_path, events)
    assert sorted(d["seq"] for d in stored_docs(tmp_path)) == [0, 1, 2, 3, 4]
    (record,) = [orjson.loads(line) for line in deadletter.path.read_bytes().splitlines()]
    assert record["event"]["seq"] == 99 and record["reason"].startswith("duckdb: ")
    assert sink.counts.get(DEAD_LETTERED, REFUSED) == 1


def test_a_second_writer_on_the_same_store_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    store = DayStore(tmp_path / "events")
    first = DuckDBSink(store, DeadLetterFile(tmp_path / "dl.ndjson"))
    try:
        with pytest.raises(StoreBusy, match=r"another logferry process \(pid \d+\) is writing to"):
            DuckDBSink(store, DeadLetterFile(tmp_path / "dl.ndjson"))
    finally:
        first.close()
    DuckDBSink(store, DeadLetterFile(tmp_path / "dl.ndjson")).close()


ROWS = 3000


def test_a_batch_written_twice_with_a_refused_document_stores_each_document_once(tmp_path: Path) -> None:
    """A batch over two days written twice (a retry), and a document the store refuses at its end:
    every document stored once, the refused one dead-lettered at each write."""
    events: list[dict[str, object]] = [{"@timestamp": stamp(i), "event.id": f"e{i}", "seq": i} for i in range(ROWS)]
    events.append({"@timestamp": "2026-11-21T11:00:00.000Z", "event.id": "next-day", "seq": -1})
    events.append({"@timestamp": "2026-11-20Tnot-a-time", "event.id": "bad", "seq": 99_999})
    sink, deadletter = write_events(tmp_path, events, times=2)
    docs = stored_docs(tmp_path)
    assert sorted(d["event"]["id"] for d in docs) == sorted([*(f"e{i}" for i in range(ROWS)), "next-day"])
    records = [orjson.loads(line) for line in deadletter.path.read_bytes().splitlines()]
    assert [r["event"]["seq"] for r in records] == [99_999, 99_999], "refused once per write of the batch"
    assert sink.counts.get(DEAD_LETTERED, REFUSED) == 2


def test_every_refused_document_among_many_is_found_and_only_those(tmp_path: Path) -> None:
    """Refused rows are found by halving the batch: bad documents side by side, at both ends and alone."""
    bad = {0, 1, 2, 777, 1498, 1499, ROWS - 1}
    events: list[dict[str, object]] = [
        {"@timestamp": "2026-11-20Tnot-a-time" if i in bad else stamp(i), "event.id": f"e{i}", "seq": i}
        for i in range(ROWS)
    ]
    _, deadletter = write_events(tmp_path, events)
    assert sorted(d["seq"] for d in stored_docs(tmp_path)) == sorted(set(range(ROWS)) - bad)
    records = [orjson.loads(line) for line in deadletter.path.read_bytes().splitlines()]
    assert [r["event"]["seq"] for r in records] == sorted(bad)
    assert all(r["reason"].startswith("duckdb: ") for r in records)
