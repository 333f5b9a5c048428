"""What evaluating alert rules costs: 50 rules every 30 s over 2M stored events (not a test).

Stores ``--events`` generated lines (``logferry.sample``, spread over the last day) in a DuckDB data dir
through the real pipeline (or reuses ``--data-dir``), builds ``--rules`` rules of every kind (count,
ratio, latency, flatline, spike, new value; half of them grouped), and evaluates all of them at
``--steps`` consecutive steps 30 s apart, as the evaluator does (``Rule.measure`` on the query
backend), measuring the CPU of this process (all threads: DuckDB's too). Prints the CPU of one step,
its share of one core at one step per ``--interval`` (the target is < 5%), and the cost per kind;
the baseline in the same run is one ungrouped count over the window, the cheapest rule there is.

    python -m bench.alerts [--events 2000000] [--rules 50] [--steps 10] [--data-dir DIR]
    python -m bench.alerts --es-url http://127.0.0.1:9200 --index-prefix bench-alerts [--events …]

With ``--es-url`` the events are stored in (or read from) ``<prefix>-*`` through the real Elasticsearch
sink and the rules run on the Elasticsearch backend; the CPU of one step is then this process's plus
the node's (``_nodes/stats`` process CPU, the node's other work included: run it on a quiet node).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alerts.config import AlertsConfig
from alerts.rules import Rule
from ingest.batch import Batcher
from ingest.deadletter import DeadLetterFile
from ingest.duckdb_sink import DuckDBSink
from ingest.file_source import FileSource
from ingest.pipeline import Pipeline
from ingest.registry import Registry
from logferry.assemble import build_processors
from logferry.components import ElasticsearchSinkConfig
from logferry.config import load_settings
from logferry.sample import generate_lines
from query.duckdb_backend import DuckDBBackend
from query.es_backend import ElasticsearchBackend
from store.day_store import DayStore

KINDS: list[dict[str, Any]] = [
    {"kind": "count", "level": "error", "threshold": 100},
    {"kind": "ratio", "q": "method:*", "numerator": {"status": "5xx"}, "threshold": 0.05, "min_count": 20},
    {"kind": "latency", "threshold_ms": 2000, "percentile": 95},
    {"kind": "flatline", "lookback": "1h"},
    {"kind": "spike", "level": "error", "factor": 3},
    {"kind": "new_value", "field": "error.type", "lookback": "1d"},
]
GROUPS = ("endpoint", "service", None)
SERVICES = (None, "api-gateway", "payments", "worker", "auth")


def rules(n: int) -> list[Rule]:
    """``n`` rules cycling through the kinds, groupings and services (a service filter narrows the scan)."""
    configs = []
    for i in range(n):
        rule = dict(KINDS[i % len(KINDS)], name=f"rule-{i}", window="5m", **{"for": "2m"})
        group = GROUPS[(i // len(KINDS)) % len(GROUPS)]
        if group and rule["kind"] != "new_value":
            rule["group_by"] = group
        service = SERVICES[(i // (len(KINDS) * len(GROUPS))) % len(SERVICES)]
        if service:
            rule["service"] = service
        configs.append(rule)
    return [Rule(c) for c in AlertsConfig.model_validate({"rules": configs}).rules]


def store_events(data_dir: Path, events: int, es: tuple[str, str] | None = None) -> None:
    log = data_dir / "bench.log"
    with open(log, "wb") as f:
        for _, line in generate_lines(events, seed=9):
            f.write(line + b"\n")
    settings = load_settings(None, data_dir=data_dir, input={"paths": [str(log)]})
    sink: Any
    if es is None:
        sink = DuckDBSink(DayStore(data_dir / "events"), DeadLetterFile(data_dir / "dl.ndjson"))
    else:
        settings = load_settings(
            None,
            data_dir=data_dir,
            input={"paths": [str(log)]},
            elasticsearch={"hosts": [es[0]], "index_prefix": es[1]},
        )
        sink = ElasticsearchSinkConfig(type="elasticsearch").build(settings, threading.Event())
    source = FileSource(settings.input, Registry(data_dir / "registry.json"), once=True)
    started = time.perf_counter()
    written = Pipeline(source, build_processors(settings), Batcher(settings.batch), sink).run(once=True).written
    where = f"{es[1]}-*" if es else str(data_dir)
    print(f"stored {written:,} events in {time.perf_counter() - started:.0f}s in {where}")
    log.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--interval", type=float, default=30.0)
    parser.add_argument("--data-dir", type=Path, help="reuse (or fill, when it has no events) this data dir")
    parser.add_argument("--es-url", help="evaluate on Elasticsearch at this URL instead of DuckDB")
    parser.add_argument("--index-prefix", default="bench-alerts", help="with --es-url: <prefix>-* (filled when empty)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp)
        data_dir.mkdir(parents=True, exist_ok=True)
        node_cpu: Callable[[], float] = lambda: 0.0  # noqa: E731 - the node's CPU, when there is a node
        backend: Any
        if args.es_url:
            from elasticsearch import Elasticsearch

            client = Elasticsearch(args.es_url, request_timeout=120)
            if not client.indices.exists(index=f"{args.index_prefix}-*", allow_no_indices=False):
                store_events(data_dir, args.events, (args.es_url, args.index_prefix))
            client.indices.refresh(index=f"{args.index_prefix}-*")
            backend = ElasticsearchBackend(client, args.index_prefix, timeout=60)

            def node_cpu() -> float:
                stats = client.nodes.stats(metric="process")["nodes"]
                return sum(n["process"]["cpu"]["total_in_millis"] for n in stats.values()) / 1000

        else:
            if not DayStore(data_dir / "events").days():
                store_events(data_dir, args.events)
            backend = DuckDBBackend(DayStore(data_dir / "events"))
        compiled = rules(args.rules)
        now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2)
        steps = [now - dt.timedelta(seconds=args.interval * k) for k in range(args.steps, 0, -1)]
        base = Rule(
            AlertsConfig.model_validate({"rules": [{"name": "base", "kind": "count", "window": "5m"}]}).rules[0]
        )
        for rule in compiled:  # open the day files and warm their caches once, as a running evaluator has
            rule.measure(backend, steps[0] - dt.timedelta(seconds=args.interval))
        base_cpu = 0.0
        for at in steps:
            cpu = time.process_time()
            base.measure(backend, at)
            base_cpu += time.process_time() - cpu
        per_kind: dict[str, float] = defaultdict(float)
        wall, cpu_total, node_before = time.perf_counter(), time.process_time(), node_cpu()
        for at in steps:
            for rule in compiled:
                cpu = time.process_time()
                rule.measure(backend, at)
                per_kind[rule.kind] += time.process_time() - cpu
        wall, cpu_total = time.perf_counter() - wall, time.process_time() - cpu_total
        node = node_cpu() - node_before
        per_step = (cpu_total + node) / len(steps)
        where = f"Elasticsearch {args.index_prefix}-*" if args.es_url else f"DuckDB over {data_dir}"
        print(f"{len(compiled)} rules, {len(steps)} steps, {args.interval:g} s apart, {where}")
        print(
            f"one step: {per_step * 1000:.1f} ms CPU ({cpu_total / len(steps) * 1000:.1f} logferry, "
            f"{node / len(steps) * 1000:.1f} the node; {wall / len(steps) * 1000:.1f} ms wall)"
        )
        print(f"share of one core at one step per {args.interval:g} s: {per_step / args.interval:.2%} (target < 5%)")
        print(f"baseline, one ungrouped count over the window: {base_cpu / len(steps) * 1000:.2f} ms CPU a step")
        print("per kind (this process's CPU only):")
        counts = defaultdict(int)
        for rule in compiled:
            counts[rule.kind] += 1
        for kind, seconds in sorted(per_kind.items()):
            each = seconds / len(steps) / counts[kind]
            ratio = each / (base_cpu / len(steps))
            print(f"  {kind:10s} {counts[kind]:3d} rules  {each * 1000:7.2f} ms CPU each  ratio {ratio:6.1f}")


if __name__ == "__main__":
    main()
