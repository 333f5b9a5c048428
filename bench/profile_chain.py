"""Per-processor cost of the default chain, in µs per event, on the realistic sample and the real-logger corpus.

Each processor runs over the whole list of events before the next one does (the events carry what the
previous processors made of them), so each stage is timed as one block, without a timer call per
event. The last rows are the serialization (nest + orjson) and a bare ``orjson.loads`` + ``dumps`` of
the same lines, measured in the same run, and the compiled chain (``logferry_native``) with the
Python chain for the lines it declines, under the default options and under ``bench.chain_configs.CHANGED``.
Run by hand:

    python -m bench.profile_chain [--lines 100000] [--rounds 3] [--pipeline-lines 300000]

The compiled chain's own cost per line, without Python around it, is measured in Rust
(``native/src/chain_tests.rs``): write lines to a file, then from ``native/``

    LOGFERRY_BENCH_LINES=lines.log cargo test --release chain_cost -- --ignored --nocapture

prints µs per line (wall, best of ``LOGFERRY_BENCH_ROUNDS``); run the test binary under
``perf stat -e task-clock`` or ``valgrind --tool=callgrind`` for CPU time or instructions, and set
``LOGFERRY_BENCH_OUT=file`` to dump every document, to compare two builds byte for byte.
"""

from __future__ import annotations

import argparse
import itertools
import math
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from bench.chain_configs import CHANGED
from bench.pipeline import bare, end_to_end, processing, write_corpus
from core.chunk import Chunk, Lines
from core.keys import RAW, SOURCE_ID
from ingest import native_chain
from ingest.document import serialize
from ingest.transform import CompiledRun
from logferry.config import load_settings
from logferry.sample import generate_lines
from logferry.stages import PROCESSORS

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "corpus"


def sample_lines(count: int) -> list[tuple[str, bytes]]:
    return [(f"/var/log/app/{service}.log", line) for service, line in generate_lines(count, seed=7)]


def corpus_lines(count: int) -> list[tuple[str, bytes]]:
    """The real-logger corpus lines, repeated up to ``count``."""
    lines = [
        (f"/var/log/corpus/{path.name}", line)
        for path in sorted(CORPUS.glob("*.log"))
        for line in path.read_bytes().splitlines()
    ]
    return [lines[i % len(lines)] for i in range(count)]


def stage_costs(lines: list[tuple[str, bytes]]) -> dict[str, float]:
    """Seconds each processor (then serialization, then the bare loop) took over all ``lines``.

    Events go through the chain one at a time, as in the pipeline (an event is hot in the CPU cache
    while its processors run; timing stage by stage over a list would charge cache misses to the
    first stage that touches each event). Each call is bracketed by ``perf_counter_ns``, whose own
    cost, measured with nothing between, is subtracted.
    """
    settings = load_settings(None)
    chain = [(name, PROCESSORS[name](getattr(settings.processors, name))) for name in settings.pipeline]
    events: list[Any] = [
        {RAW: line, SOURCE_ID: "2049:131:9f86d081", "log.file.path": path, "log.offset": i * 100}
        for i, (path, line) in enumerate(lines)
    ]
    names = [name for name, _ in chain] + ["serialize (nest+orjson)"]
    steps = [processor for _, processor in chain] + [serialize]
    nanos = [0] * len(steps)
    clock = time.perf_counter_ns
    overhead = min(-clock() + clock() for _ in range(10_000))
    for event in events:
        for position, step in enumerate(steps):
            started = clock()
            result = step(event)
            nanos[position] += clock() - started - overhead
            if position < len(chain):
                event = result
    costs = {name: total / 1e9 for name, total in zip(names, nanos, strict=True)}
    loads, dumps = orjson.loads, orjson.dumps
    started = clock()
    for _, line in lines:
        try:
            dumps(loads(line))
        except orjson.JSONDecodeError:
            dumps({"message": line.decode("utf-8", "replace")})
    costs["bare loads+dumps"] = (clock() - started) / 1e9
    costs[COMPILED] = compiled_cost(lines)
    costs[COMPILED_CHANGED] = compiled_cost(lines, CHANGED)
    return costs


COMPILED = "compiled chain"
COMPILED_CHANGED = "compiled chain, every option changed"


def compiled_cost(lines: list[tuple[str, bytes]], options: dict[str, Any] | None = None) -> float:
    """Seconds the compiled transform took for all ``lines`` (a block of one file's lines at a time,
    as the file source hands them), the Python chain's work on the lines it declines included;
    ``nan`` when ``logferry_native`` is not installed."""
    if not native_chain.available():
        return math.nan
    settings = load_settings(None, processors=options)
    chain = [(name, PROCESSORS[name](getattr(settings.processors, name))) for name in settings.pipeline]
    compiled = native_chain.transform_for(chain, serialize)
    blocks = [
        Lines([line for _, line in run], "2049:131:9f86d081", path, at * 100)
        for at, (path, run) in enumerate(itertools.groupby(lines, key=lambda row: row[0]))
    ]
    started = time.perf_counter_ns()
    for block in blocks:
        for item in compiled.process(Chunk.of_lines(("profile", ""), block, 0, 0)).items():
            if not isinstance(item, CompiledRun):
                serialize(item)
    return (time.perf_counter_ns() - started) / 1e9


def report(title: str, lines: list[tuple[str, bytes]], rounds: int) -> None:
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, seconds in stage_costs(lines).items():
            best[name] = min(best.get(name, seconds), seconds)
    per_event = {name: seconds / len(lines) * 1e6 for name, seconds in best.items()}
    bare = per_event.pop("bare loads+dumps")
    compiled = per_event.pop(COMPILED)
    changed = per_event.pop(COMPILED_CHANGED)
    total = sum(per_event.values())
    print(f"\n{title}: {len(lines):,} events, best of {rounds}")
    for name, micros in sorted(per_event.items(), key=lambda item: -item[1]):
        print(f"  {name:26s} {micros:7.2f} µs/event")
    print(f"  {'chain + serialize':26s} {total:7.2f} µs/event  ({1e6 / total:,.0f} ev/s)")
    print(f"  {'bare loads+dumps':26s} {bare:7.2f} µs/event  ({1e6 / bare:,.0f} ev/s)  ratio {bare / total:.3f}")
    if math.isnan(compiled):
        print("  compiled chain: logferry_native is not installed (pip install ./native)")
    else:
        rate = f"({1e6 / compiled:,.0f} ev/s)"
        print(f"  {'compiled chain':26s} {compiled:7.2f} µs/event  {rate}  ratio {bare / compiled:.3f}")
        label = "… every option changed"
        print(f"  {label:26s} {changed:7.2f} µs/event  ratio to the defaults {compiled / changed:.3f}")


def pipeline_cpu(lines: int) -> None:
    """``bench.pipeline``'s (a), (b) and (c) in CPU seconds of this process instead of wall seconds.

    On a machine shared with other work, wall time measures the neighbours too; CPU time does not.
    (c) includes DuckDB's own threads, so its CPU ratio is the stricter one.
    """
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus = root / "corpus.log"
        write_corpus(corpus, lines)
        runs = {
            "a bare loads+dumps": lambda: bare(corpus),
            "b read+parse+enrich+serialize": lambda: processing(
                corpus, load_settings(None, data_dir=root / "b", input={"paths": [str(corpus)]})
            ),
            "b … Python chain only": lambda: processing(
                corpus, load_settings(None, data_dir=root / "b-python", input={"paths": [str(corpus)]}), False
            ),
            "c end to end into DuckDB": lambda: end_to_end(
                corpus, load_settings(None, data_dir=root / "c", input={"paths": [str(corpus)]})
            ),
        }
        print(f"\npipeline, CPU seconds of this process: {lines:,} lines")
        base_rate = 0.0
        for name, run in runs.items():
            started = time.process_time()
            count = run()
            rate = count / (time.process_time() - started)
            base_rate = base_rate or rate
            print(f"  {name:32s} {count:>9,} events {rate:>10,.0f} ev/s (CPU)  ratio {rate / base_rate:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pipeline-lines", type=int, default=0, help="also run bench.pipeline's a/b/c in CPU time")
    args = parser.parse_args()
    report("realistic sample", sample_lines(args.lines), args.rounds)
    report("real-logger corpus", corpus_lines(args.lines), args.rounds)
    if args.pipeline_lines:
        pipeline_cpu(args.pipeline_lines)


if __name__ == "__main__":
    main()
