"""Query latency over a large store: p50/p99 of the three questions users come for, per backend.

    python -m bench.query --events 10000000 --backends duckdb,elasticsearch

Documents are generated directly (the shipped ECS shape, not through the processors) over two UTC
days and bulk-loaded: DuckDB with ``read_ndjson_objects`` into the day files, Elasticsearch with
the bulk API into ``<prefix>-YYYY.MM.DD`` under the project's index template. Then each query runs
``--repeat`` times over one day: errors by user (top 10), errors over time (5 m buckets, by
endpoint), top endpoints. Targets: embedded p99 < 200 ms, Elasticsearch p99 < 300 ms.
Run by hand; not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
# The script's own directory holds bench/elasticsearch.py, which would shadow the client package.
sys.path[0] = str(ROOT)

from ingest.duckdb_sink import INSERT_FILE  # noqa: E402
from ingest.duckdb_store import DayStore  # noqa: E402
from query.backend import Backend, DuckDBBackend, ElasticsearchBackend  # noqa: E402
from query.filters import build_filters  # noqa: E402
from query.timerange import interval_ms, iso_ms  # noqa: E402

UTC = dt.UTC
START = dt.datetime(2026, 3, 10, tzinfo=UTC)
DAYS = 2
ENDPOINTS = [f"/api/v1/resource{i}/{{id}}" for i in range(40)] + [f"/api/v1/static{i}" for i in range(10)]
LEVELS = ["info"] * 80 + ["debug"] * 8 + ["warn"] * 7 + ["error"] * 5
STATUSES = [200] * 85 + [201, 204, 301, 400, 404, 404, 429, 500, 502, 503] + [200] * 5
TARGETS_MS = {"duckdb": 200.0, "elasticsearch": 300.0}


def documents(n: int, seed: int = 1) -> Iterator[tuple[dt.date, bytes]]:
    """``n`` documents spread evenly over the days, as (UTC day, JSON bytes)."""
    r = random.Random(seed)
    span_ms = DAYS * 86_400_000
    for i in range(n):
        ts = START + dt.timedelta(milliseconds=i * span_ms // n)
        endpoint = ENDPOINTS[int(r.paretovariate(1.2)) % len(ENDPOINTS)]
        status = r.choice(STATUSES)
        level = "error" if status >= 500 else r.choice(LEVELS)
        duration = int(r.expovariate(1 / 120) * 1_000_000) + 1_000_000
        doc: dict[str, Any] = {
            "@timestamp": iso_ms(ts),
            "message": f"request {endpoint} -> {status}",
            "log": {"level": level, "file": {"path": "/var/log/app.log"}, "offset": i * 200},
            "event": {"id": f"{i:016x}", "duration": duration},
            "http": {
                "request": {"method": "GET"},
                "response": {"status_code": status, "status_class": f"{status // 100}xx"},
            },
            "url": {"path": endpoint.replace("{id}", str(i % 9973))},
            "endpoint": endpoint,
            "user": {"id": f"user_{int(r.paretovariate(1.1)) % 10_000}"},
            "service": {"name": ("api", "billing", "web")[i % 3]},
            "tags": ["http"] + (["slow_request"] if duration > 1_000_000_000 else []),
        }
        if level == "error":
            doc["error"] = {"type": r.choice(["TimeoutError", "DbError", "ValueError"]), "message": "boom"}
        yield ts.date(), orjson.dumps(doc)


def load_duckdb(store: DayStore, n: int, chunk: int = 500_000) -> None:
    spool = Path(tempfile.mkdtemp(prefix="lf-bench-"))
    buffers: dict[dt.date, list[bytes]] = {}

    def flush(day: dt.date) -> None:
        path = spool / f"{day}.ndjson"
        path.write_bytes(b"\n".join(buffers.pop(day)))
        con = store.connect(day, create=True)
        con.execute(INSERT_FILE, [str(path)])
        con.close()
        path.unlink()

    for day, doc in documents(n):
        buffers.setdefault(day, []).append(doc)
        if len(buffers[day]) >= chunk:
            flush(day)
    for day in list(buffers):
        flush(day)
    spool.rmdir()


def load_elasticsearch(client: Any, prefix: str, n: int) -> None:
    from elasticsearch import helpers

    from ingest.elasticsearch_template import install_template

    install_template(client, prefix, refresh_interval="-1")

    def actions() -> Iterator[dict[str, Any]]:
        for day, doc in documents(n):
            yield {
                "_index": f"{prefix}-{day.strftime('%Y.%m.%d')}",
                "_id": orjson.loads(doc)["event"]["id"],
                "_source": doc,
            }

    failed = 0
    for ok, _ in helpers.streaming_bulk(
        client.options(request_timeout=120), actions(), chunk_size=5000, raise_on_error=False
    ):
        failed += not ok
    if failed:
        raise SystemExit(f"{failed} documents were refused")
    client.indices.put_settings(index=f"{prefix}-*", settings={"index": {"refresh_interval": "1s"}})
    client.indices.refresh(index=f"{prefix}-*")
    client.indices.forcemerge(index=f"{prefix}-*", max_num_segments=1, request_timeout=3600)


def queries(backend: Backend) -> dict[str, Callable[[], Any]]:
    f = build_filters(start=iso_ms(START), end=iso_ms(START + dt.timedelta(days=1)))
    name, width = interval_ms("5m", f.start, f.end, 2000)
    return {
        "errors by user (top 10)": lambda: backend.top(f, "user", 10, True),
        "errors over time (5m, by endpoint)": lambda: backend.errors_over_time(f, name, width, "endpoint", 10),
        "top endpoints": lambda: backend.top(f, "endpoint", 10, False),
    }


def measure(backend: Backend, repeat: int) -> dict[str, tuple[float, float]]:
    out = {}
    for label, run in queries(backend).items():
        for _ in range(3):
            run()
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            run()
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p99 = times[min(len(times) - 1, int(round(0.99 * (len(times) - 1))))]
        out[label] = (statistics.median(times), p99)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=10_000_000)
    ap.add_argument("--backends", default="duckdb,elasticsearch")
    ap.add_argument("--repeat", type=int, default=50)
    ap.add_argument("--data-dir", type=Path, default=None, help="Reuse/keep the DuckDB files here.")
    ap.add_argument("--es-url", default="http://127.0.0.1:9200")
    ap.add_argument("--index-prefix", default="lfbench")
    ap.add_argument("--skip-load", action="store_true", help="Query what an earlier run loaded.")
    args = ap.parse_args()

    results: dict[str, dict[str, tuple[float, float]]] = {}
    for name in args.backends.split(","):
        t0 = time.perf_counter()
        backend: Backend
        if name == "duckdb":
            data = args.data_dir or Path(tempfile.mkdtemp(prefix="lf-bench-duckdb-"))
            store = DayStore(data / "events")
            if not args.skip_load:
                load_duckdb(store, args.events)
            backend = DuckDBBackend(store, timeout=60)
        else:
            from elasticsearch import Elasticsearch

            client = Elasticsearch(args.es_url, request_timeout=120)
            if not args.skip_load:
                client.indices.delete(index=f"{args.index_prefix}-*", ignore_unavailable=True, allow_no_indices=True)
                load_elasticsearch(client, args.index_prefix, args.events)
            backend = ElasticsearchBackend(client, args.index_prefix, timeout=60)
        load_s = time.perf_counter() - t0
        print(f"{name}: {args.events:,} events loaded in {load_s:.0f} s", flush=True)
        results[name] = measure(backend, args.repeat)
        for label, (p50, p99) in results[name].items():
            verdict = "ok" if p99 < TARGETS_MS[name] else "OVER TARGET"
            print(
                f"  {label:<36} p50 {p50:8.1f} ms   p99 {p99:8.1f} ms   "
                f"({verdict}, target p99 < {TARGETS_MS[name]:.0f} ms)",
                flush=True,
            )
    if len(results) == 2:
        print("elasticsearch / duckdb p50 ratio:")
        for label in results["duckdb"]:
            print(f"  {label:<36} {results['elasticsearch'][label][0] / results['duckdb'][label][0]:.2f}x")


if __name__ == "__main__":
    main()
