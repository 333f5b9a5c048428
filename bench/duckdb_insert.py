"""CPU cost of the DuckDB sink's insert alone, per event, against the per-column statement (not a test).

The documents are the sample's lines through the default processor chain, batched as ``ingest``
batches them. Each variant writes every batch into a fresh day file and is timed in process CPU
seconds (DuckDB's threads included), the file's close (checkpoint) counted apart:

(old)    one JSON path per column (``j->>'$.a.b'``, one parse per column) and INSERT OR IGNORE;
(sink)   ``DuckDBSink.write``: one ``json_transform`` per document and a plain INSERT;
(replay) ``DuckDBSink.write`` of every batch a second time: the primary key refuses the plain
         INSERT and the batch is inserted again ignoring the stored ids (nothing is added).

    python -m bench.duckdb_insert [--lines 50000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from core.outcomes import EventCounts
from ingest.batch import Batch, Batcher
from ingest.deadletter import DeadLetterFile
from ingest.duckdb_sink import DuckDBSink
from ingest.file_source import FileSource
from ingest.pipeline import Pipeline
from ingest.registry import Registry
from logferry.assemble import build_processors
from logferry.config import load_settings
from logferry.sample import generate_lines
from store.day_store import SCHEMA, DayStore

PER_COLUMN = """
    j->>'$.event.id',
    CAST(j->>'$."@timestamp"' AS TIMESTAMPTZ),
    j->>'$.log.level',
    TRY_CAST(j->'$.tags' AS VARCHAR[]),
    j->>'$.user.id',
    j->>'$.endpoint',
    j->>'$.url.path',
    TRY_CAST(j->>'$.http.response.status_code' AS INTEGER),
    j->>'$.http.response.status_class',
    TRY_CAST(j->>'$.event.duration' AS DOUBLE) / 1e6,
    j->>'$.service.name',
    j->>'$.error.type',
    j->>'$.message',
    j
"""
OLD_INSERT = f"INSERT OR IGNORE INTO events SELECT {PER_COLUMN} FROM (SELECT CAST(unnest(?::VARCHAR[]) AS JSON) AS j)"


class _Collect:
    name = "collect"
    counts = EventCounts()

    def __init__(self) -> None:
        self.batches: list[Batch] = []

    def write(self, batch: Batch) -> None:
        self.batches.append(batch)

    def close(self) -> None:
        return None


def sample_batches(root: Path, lines: int) -> list[Batch]:
    corpus = root / "sample.log"
    corpus.write_bytes(b"".join(line + b"\n" for _, line in generate_lines(lines, seed=7)))
    settings = load_settings(None, data_dir=root / "collect", input={"paths": [str(corpus)]})
    sink = _Collect()
    source = FileSource(settings.input, Registry(root / "collect" / "registry.json"), once=True)
    Pipeline(source, build_processors(settings), Batcher(settings.batch), sink).run(once=True)
    return sink.batches


def old_statement(root: Path, batches: list[Batch]) -> tuple[float, float]:
    root.mkdir(parents=True)
    con = duckdb.connect(str(root / "old.duckdb"), config={"memory_limit": "2GB", "threads": 2})
    con.execute(SCHEMA)
    start = time.process_time()
    for batch in batches:
        con.execute(OLD_INSERT, [[doc.decode("utf-8", "replace") for doc in batch.docs]])
    inserted = time.process_time()
    con.close()
    return inserted - start, time.process_time() - inserted


def sink_writes(root: Path, batches: list[Batch], times: int) -> tuple[float, float]:
    sink = DuckDBSink(DayStore(root / f"sink-{times}"), DeadLetterFile(root / "dl.ndjson"), open_days=64)
    for batch in batches * (times - 1):
        sink.write(batch)
    start = time.process_time()
    for batch in batches:
        sink.write(batch)
    inserted = time.process_time()
    sink.close()
    return inserted - start, time.process_time() - inserted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        batches = sample_batches(root, args.lines)
        events = sum(len(b) for b in batches)
        print(f"{events:,} events in {len(batches)} batches")
        for n in range(args.rounds):
            results = {
                "old  per-column, OR IGNORE": old_statement(root / f"r{n}-old", batches),
                "sink json_transform, INSERT": sink_writes(root / f"r{n}", batches, 1),
                "replay (every id stored)": sink_writes(root / f"r{n}", batches, 2),
            }
            for name, (insert, close) in results.items():
                print(
                    f"round {n}  {name:28s} {insert / events * 1e6:6.1f} CPU µs/event insert"
                    f"  +{close / events * 1e6:5.1f} at close (checkpoint)"
                )


if __name__ == "__main__":
    main()
