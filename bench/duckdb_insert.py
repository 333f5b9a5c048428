"""The DuckDB sink's settings, measured: CPU per event of its writes and of the close, and the file's size.

The documents are the sample's lines through the default processor chain, batched as ``ingest``
batches them. Each variant writes every batch through ``DuckDBSink.write`` into a fresh store and is
timed in process CPU seconds (DuckDB's threads included), the close (the last checkpoint) apart:

(sink)        as shipped: typed columns as Arrow, the document zstd-compressed, one writer thread,
              a checkpoint every ``checkpoint_threshold`` (64MB) of write-ahead log;
(threads 2)   the writer's connections on two threads;
(16MB, 256MB) other checkpoint thresholds (DuckDB's default is 16MB);
(doc default) the document left to DuckDB's own choice of compression (FSST or dictionary);
(replay)      every batch written again by a new sink whose source reads it all again (a lost
              registry): what the earlier run stored of each source is deleted, the batches stored again.

    python -m bench.duckdb_insert [--lines 200000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import duckdb

import ingest.duckdb_sink as duckdb_sink
from bench.pipeline import prepared_batches, write_corpus
from core.chunk import Position
from ingest.batch import Batch
from ingest.deadletter import DeadLetterFile
from ingest.duckdb_sink import DuckDBSink
from logferry.config import load_settings
from store.day_store import DayStore
from store.schema import EVENTS_DDL


class ReadsAll:
    """A source that reads every position again from its start (as after a lost registry)."""

    def rereads(self, position: Position) -> tuple[int, int]:
        return (0, 2**62)


def days_of(batches: list[Batch]) -> set[dt.date]:
    return {dt.date.fromisoformat(stamp[:10]) for batch in batches for stamp in batch.timestamps() if stamp}


def variant(
    root: Path,
    batches: list[Batch],
    *,
    threshold: str = "64MB",
    threads: int = 1,
    ddl: str | None = None,
    replay: bool = False,
) -> tuple[float, float, int]:
    """CPU seconds of the writes and of the close, and the bytes of the day files."""
    store = DayStore(root, checkpoint_threshold=threshold)
    if ddl is not None:
        root.mkdir(parents=True)
        for day in days_of(batches):
            con = duckdb.connect(str(store.path(day)))
            con.execute(ddl)
            con.close()
    if replay:
        first = DuckDBSink(store, DeadLetterFile(root / "dl.ndjson"))
        for batch in batches:
            first.write(batch)
        first.close()
    saved, duckdb_sink.WRITER_THREADS = duckdb_sink.WRITER_THREADS, threads
    try:
        sink = DuckDBSink(store, DeadLetterFile(root / "dl.ndjson"))
        if replay:
            sink.recover(ReadsAll())
        start = time.process_time()
        for batch in batches:
            sink.write(batch)
        written = time.process_time()
        sink.close()
    finally:
        duckdb_sink.WRITER_THREADS = saved
    closed = time.process_time()
    size = sum(p.stat().st_size for p in root.glob("*.duckdb*"))
    return written - start, closed - written, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus = root / "sample.log"
        write_corpus(corpus, args.lines)
        batches = prepared_batches(
            corpus, load_settings(None, data_dir=root / "collect", input={"paths": [str(corpus)]})
        )
        events = sum(len(b) for b in batches)
        print(f"{events:,} events in {len(batches)} batches")
        for n in range(args.rounds):
            results = {
                "sink (as shipped)": variant(root / f"r{n}-sink", batches),
                "threads 2": variant(root / f"r{n}-t2", batches, threads=2),
                "checkpoint 16MB": variant(root / f"r{n}-16", batches, threshold="16MB"),
                "checkpoint 256MB": variant(root / f"r{n}-256", batches, threshold="256MB"),
                "doc default compression": variant(
                    root / f"r{n}-fsst", batches, ddl=EVENTS_DDL.replace(" USING COMPRESSION zstd", "")
                ),
                "replay (all read again)": variant(root / f"r{n}-replay", batches, replay=True),
            }
            for name, (insert, close, size) in results.items():
                print(
                    f"round {n}  {name:26s} {insert / events * 1e6:6.2f} CPU µs/event writing"
                    f"  +{close / events * 1e6:5.2f} at close  {size / events:6.0f} bytes/event"
                )


if __name__ == "__main__":
    main()
