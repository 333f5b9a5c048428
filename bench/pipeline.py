"""Throughput of the embedded path against a bare loop measured in the same run (not a test).

(a) bare: read lines, orjson.loads, orjson.dumps — the floor any JSON log shipper pays;
(b) logferry's read → parse → enrich → serialize with the default processor options: the compiled
    chain (``logferry_native``) where it applies, and with ``--python`` also the Python chain alone;
    counting the metrics made from events as ``run`` does (``enrich/event_metrics.py``); (b0) the same
    without them, and b/b0, their cost;
(b') the same with ``bench.chain_configs.CHANGED``, every option of every processor changed (the
    README's ``slow_request_ms = 2000``, routes, id patterns, a zone per path …): b'/b says what
    configuring the product costs, which should be next to nothing;
(c) end to end into DuckDB (`Pipeline` with the file source and the DuckDB sink, as ``ingest`` runs it),
    and with ``--changed`` (c') the same under ``CHANGED``;
(d) the sink alone: ``DuckDBSink.write`` of the batches c writes, prepared beforehand, into a fresh store
    (typed columns read from the documents, appended as Arrow), closed (checkpointed);
(e) the peer a user would pick instead, "just load the JSON into DuckDB": DuckDB's own ``read_json_auto`` of
    the same file into a table (typed columns it infers, nothing else), closed (checkpointed);
(f) with ``--ingest``: ``logferry ingest`` as a user runs it (a process of its own), default options
    and ``CHANGED`` (given as ``LOGFERRY_PROCESSORS``), CPU of the child process.
Prints events/s and MB/s for each and the ratios to (a), c's ratios to (d) and (e), the storage per
1M events (c's day files and e's table beside the raw lines and their gzip), and b'/b, c'/c and f'/f.

    python -m bench.pipeline [--lines 1000000] [--python] [--changed] [--ingest] [--threads 2] [--repeat 3]

Figures are wall time and CPU time of this process (all threads): on a shared machine compare CPU.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import orjson

from bench.chain_configs import CHANGED
from core.outcomes import EventCounts
from enrich.event_metrics import EventMetricStore
from ingest import native_chain
from ingest.batch import Batch, Batcher
from ingest.deadletter import DeadLetterFile
from ingest.document import serialize
from ingest.duckdb_sink import DuckDBSink
from ingest.file_source import FileSource
from ingest.native_chain import CompiledTransform, transform_for
from ingest.pipeline import Pipeline
from ingest.registry import Registry
from ingest.transform import PythonTransform
from logferry.assemble import build_processors
from logferry.config import Settings, load_settings
from logferry.sample import generate_lines
from store.day_store import DayStore


def write_corpus(path: Path, lines: int) -> int:
    with open(path, "wb") as f:
        for _, line in generate_lines(lines, seed=7):
            f.write(line + b"\n")
    return path.stat().st_size


def bare(path: Path) -> int:
    n = 0
    loads, dumps = orjson.loads, orjson.dumps
    with open(path, "rb") as f:
        for line in f:
            try:
                dumps(loads(line))
            except orjson.JSONDecodeError:
                dumps({"message": line.decode("utf-8", "replace")})
            n += 1
    return n


def processing(
    path: Path, settings: Settings, compiled: bool = True, sink: _NullSink | None = None, metrics: bool = True
) -> int:
    """Source, processors and serialization into ``sink``, by default none: what the hot path costs; with
    ``metrics``, counting the metrics made from events as ``run`` does."""
    source = FileSource(settings.input, Registry(settings.data_dir / "bench-registry.json"), once=True)
    processors = build_processors(settings)
    store = EventMetricStore(settings.event_metrics) if metrics else None
    buckets = store.config.buckets if store is not None else None
    python = PythonTransform(processors, serialize)
    transform = transform_for(processors, serialize, buckets) if compiled else python
    if compiled and not (isinstance(transform, CompiledTransform) and transform.writes_documents):
        print("  (the compiled chain does not run all of this chain: see the log line it wrote at start)")
    pipeline = Pipeline(source, transform, Batcher(settings.batch), sink or _NullSink(), event_metrics=store)
    return pipeline.run(once=True).written


class _NullSink:
    name = "null"

    counts = EventCounts()

    def write(self, batch: Batch) -> None:
        return None

    def close(self) -> None:
        return None


class _KeepingSink(_NullSink):
    name = "keeping"

    def __init__(self) -> None:
        self.batches: list[Batch] = []

    def write(self, batch: Batch) -> None:
        self.batches.append(batch)


def prepared_batches(path: Path, settings: Settings) -> list[Batch]:
    """The batches c hands its sink (the same chain and batcher), kept for (d)."""
    sink = _KeepingSink()
    processing(path, settings, sink=sink)
    return sink.batches


def store_only(batches: list[Batch], data_dir: Path) -> int:
    """(d): every batch through ``DuckDBSink.write`` into a fresh store, closed (checkpointed) at the end."""
    sink = DuckDBSink(DayStore(data_dir / "events"), DeadLetterFile(data_dir / "dl.ndjson"))
    for batch in batches:
        sink.write(batch)
    sink.close()
    return sum(len(batch) for batch in batches)


def end_to_end(path: Path, settings: Settings) -> int:
    store = DayStore(settings.data_dir / "events")
    sink = DuckDBSink(store, DeadLetterFile(settings.data_dir / "dl.ndjson"))
    source = FileSource(settings.input, Registry(settings.data_dir / "registry.json"), once=True)
    sink.recover(source)
    return Pipeline(source, build_processors(settings), Batcher(settings.batch), sink).run(once=True).written


def duckdb_json_load(path: Path, database: Path) -> int:
    """(e): ``read_json_auto`` of the raw lines into a table, as a user would load the files."""
    con = duckdb.connect(str(database), config={"memory_limit": "2GB", "threads": 2})
    con.execute(
        "CREATE TABLE logs AS SELECT * FROM read_json_auto(?, format = 'newline_delimited', ignore_errors = true)",
        [str(path)],
    )
    found = con.execute("SELECT count(*) FROM logs").fetchone()
    con.close()
    return found[0] if found else 0


def megabytes_per_million(size: int, events: int) -> float:
    return size / 1e6 * 1_000_000 / max(events, 1)


def gzip_size(path: Path) -> int:
    with open(path, "rb") as f:
        return len(gzip.compress(f.read(), compresslevel=6))


def ingest_cli(path: Path, data_dir: Path, processors: dict[str, Any] | None) -> tuple[int, float, float]:
    """(f): ``logferry ingest`` in a process of its own; events written, wall seconds, its CPU seconds."""
    env = dict(os.environ)
    if processors:
        env["LOGFERRY_PROCESSORS"] = json.dumps(processors)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "logferry", "ingest", str(path), "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    summary = done.stderr.strip().splitlines()[-1]  # "N lines read, M events written, …"
    written = int(summary.split(" lines read, ")[1].split(" events written")[0].replace(",", ""))
    return written, wall, cpu


def timed(fn, *args):  # type: ignore[no-untyped-def]
    """Events, wall seconds and CPU seconds of this process (all its threads): the machine may be shared."""
    t, cpu = time.perf_counter(), time.process_time()
    n = fn(*args)
    return n, time.perf_counter() - t, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--python", action="store_true", help="also run (b) with the Python chain alone")
    parser.add_argument("--changed", action="store_true", help="also run (c) with every option changed")
    parser.add_argument("--ingest", action="store_true", help="also run `logferry ingest` (f) both ways")
    parser.add_argument("--threads", type=int, default=native_chain.THREADS, help="threads of the compiled chain")
    parser.add_argument("--repeat", type=int, default=1, help="runs of b and b0, in turns; the best of each counts")
    args = parser.parse_args()
    native_chain.THREADS = args.threads
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus = root / "corpus.log"
        size = write_corpus(corpus, args.lines)
        print(f"corpus: {args.lines:,} lines, {size / 1e6:.1f} MB")

        def settings(name: str, processors: dict[str, Any] | None = None) -> Settings:
            return load_settings(None, data_dir=root / name, input={"paths": [str(corpus)]}, processors=processors)

        results = {}
        results["a bare loads+dumps"] = timed(bare, corpus)
        for turn in range(args.repeat):  # b and b0 in turns, the best of each: on a shared machine
            for name, metrics in (("b read+parse+enrich+serialize", True), ("b0 … without event metrics", False)):
                n, secs, cpu = timed(processing, corpus, settings(f"{name[:2].strip()}-{turn}"), True, None, metrics)
                best = results.get(name)
                results[name] = (n, min(secs, best[1]), min(cpu, best[2])) if best else (n, secs, cpu)
        results["b' … every option changed"] = timed(processing, corpus, settings("b-changed", CHANGED))
        if args.python:
            results["b … Python chain only"] = timed(processing, corpus, settings("b-python"), False)
        results["c end to end into DuckDB"] = timed(end_to_end, corpus, settings("c"))
        if args.changed:
            results["c' … every option changed"] = timed(end_to_end, corpus, settings("c-changed", CHANGED))
        batches = prepared_batches(corpus, settings("d"))
        results["d the DuckDB sink alone"] = timed(store_only, batches, root / "d")
        del batches
        results["e DuckDB read_json_auto (peer)"] = timed(duckdb_json_load, corpus, root / "e.duckdb")
        if args.ingest:
            results["f logferry ingest"] = ingest_cli(corpus, root / "f", None)
            results["f' … every option changed"] = ingest_cli(corpus, root / "f-changed", CHANGED)
        base_n, base_secs, base_cpu = results["a bare loads+dumps"]
        base_rate, base_per_line = base_n / base_secs, base_cpu / base_n
        for name, (n, secs, cpu) in results.items():
            rate = n / secs
            print(
                f"{name:34s} {n:>10,} events {secs:7.2f}s {rate:>11,.0f} ev/s {size / 1e6 / secs:7.1f} MB/s"
                f"  ratio {rate / base_rate:5.2f}"
                f"  CPU {cpu / n * 1e6:6.2f} µs/line, ratio {base_per_line / (cpu / n):5.2f}"
            )
        b_n, b_secs, b_cpu = results["b read+parse+enrich+serialize"]
        b0_n, b0_secs, b0_cpu = results["b0 … without event metrics"]
        print(f"b / b0 (the metrics made from events): wall {b_secs / b0_secs:.3f}, CPU {b_cpu / b0_cpu:.3f}")
        c_n, c_secs, c_cpu = results["c end to end into DuckDB"]
        d_n, d_secs, _ = results["d the DuckDB sink alone"]
        e_n, e_secs, e_cpu = results["e DuckDB read_json_auto (peer)"]
        print(f"c / d (end to end against the sink alone): {c_n / c_secs / (d_n / d_secs):.2f}")
        print(
            f"c / e (end to end against DuckDB's own JSON load): {c_n / c_secs / (e_n / e_secs):.2f} wall, "
            f"{(e_cpu / e_n) / (c_cpu / c_n):.2f} CPU"
        )
        stored = sum(p.stat().st_size for p in (root / "c" / "events").glob("*.duckdb*"))
        peer_size = (root / "e.duckdb").stat().st_size
        print(
            "storage, MB per 1M events: "
            f"c day files {megabytes_per_million(stored, c_n):.0f} (typed columns + the document), "
            f"e table {megabytes_per_million(peer_size, e_n):.0f} (inferred columns only), "
            f"raw lines {megabytes_per_million(size, args.lines):.0f}, "
            f"gzip -6 {megabytes_per_million(gzip_size(corpus), args.lines):.0f}"
        )
        for plain, changed in (("b", "b'"), ("c", "c'"), ("f", "f'")):
            first = next((v for k, v in results.items() if k.startswith(plain + " ")), None)
            second = next((v for k, v in results.items() if k.startswith(changed + " ")), None)
            if first and second:
                print(
                    f"{changed} / {plain} (every option changed against the defaults): "
                    f"wall {second[0] / second[1] / (first[0] / first[1]):.2f}, "
                    f"CPU per line {first[2] / first[0] / (second[2] / second[0]):.2f}"
                )
        print(
            "targets: b/a >= 0.5, c/a >= 0.3, c/e >= 0.3, b'/b and f'/f >= 0.9 "
            "(on a shared machine, quote the CPU ratios)"
        )


if __name__ == "__main__":
    main()
