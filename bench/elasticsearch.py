"""Throughput into Elasticsearch against the ceiling of this ES on this box, measured in the same run.

The same N generated events (``logferry.sample.generate_lines``) each time, into fresh indices:

(a) ceiling: the documents exactly as logferry stores them (processed, serialized, with their event
    ids as ``_id``), prepared beforehand as ~5 MB ``_bulk`` bodies and posted one after another
    (a1), and two at a time (a2, as the sink sends a batch); the faster of the two is the baseline;
(b) ``logferry ship --to elasticsearch --once``: files → processors → bulk, as one process;
(c) ``logferry ship --to kafka --once``, then ``logferry index --exit-when-idle S`` (c'): the
    indexer's time, counted without its final idle wait.

With ``--compare-tree DIR`` (another checkout), b and c' run again with that checkout's logferry
(b0, c0'), so that before and after are measured in the same run against the same ceiling: b before
b0, c0' before c'. Each run's indices are deleted once counted and the next run waits for the node's
merges to end, so that no run pays for the previous one's merging. logferry's own CPU per document is
printed too: on a machine shared with the node, it is the figure wall time cannot give.

Prints docs/s for each and its ratio to the baseline (target: b and c' ≥ 0.9 of it); deletes its
indices and topic.
Needs the servers of ``scripts/services up``. Not a test; run by hand:

    python -m bench.elasticsearch [--events 1000000] [--es-url URL] [--kafka HOST:PORT] [--compare-tree DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from bench.corpus import FILES, write_corpus
from core.outcomes import EventCounts
from elastic.bulk import ActionLines
from elastic.naming import DailyIndex
from elastic.templates import install_template
from ingest.batch import Batch, Batcher
from ingest.file_source import FileSource
from ingest.pipeline import Pipeline
from ingest.registry import Registry
from logferry.assemble import build_processors
from logferry.config import load_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
BODY_BYTES = 5 * 1024 * 1024
IDLE = 5.0


class _BodyWriter:
    """A sink that turns batches into ready ``_bulk`` bodies on disk (untimed preparation of run a)."""

    name = "bulk-bodies"

    def __init__(self, directory: Path, prefix: str) -> None:
        self.directory = directory
        self.daily = DailyIndex(prefix, "%Y.%m.%d")
        self.actions = ActionLines()
        self.counts = EventCounts()
        self.parts: list[bytes] = []
        self.size = 0
        self.bodies: list[Path] = []

    def write(self, batch: Batch) -> None:
        for event, doc in zip(batch.events, batch.docs, strict=True):
            index = self.daily(event.get("@timestamp")) or f"{self.daily.prefix}-unknown"
            action = self.actions(index, event["event.id"])
            self.parts += (action, doc)
            self.size += len(action) + len(doc) + 2
            if self.size >= BODY_BYTES:
                self._cut()

    def _cut(self) -> None:
        if self.parts:
            path = self.directory / f"body-{len(self.bodies):05d}.ndjson"
            path.write_bytes(b"\n".join(self.parts) + b"\n")
            self.bodies.append(path)
        self.parts, self.size = [], 0

    def close(self) -> None:
        self._cut()


def prepare_bodies(root: Path, logs: Path, prefix: str) -> list[Path]:
    settings = load_settings(None, data_dir=root / "prepare", input={"paths": [str(logs / "*.log")]})
    settings.data_dir.mkdir(parents=True)
    writer = _BodyWriter(root, prefix)
    source = FileSource(settings.input, Registry(settings.data_dir / "registry.json"), once=True)
    Pipeline(source, build_processors(settings), Batcher(settings.batch), writer).run(once=True)
    return writer.bodies


def post_bodies(client: Elasticsearch, bodies: list[Path], in_flight: int) -> float:
    """Post the prepared bodies, ``in_flight`` requests at a time; the seconds it took (bodies read beforehand)."""
    loaded = [path.read_bytes() for path in bodies]

    def post(body: bytes) -> None:
        response = client.perform_request(
            "PUT",
            "/_bulk",
            params={"filter_path": "errors,items.*.error"},
            headers={"accept": "application/json", "content-type": "application/x-ndjson"},
            body=body,
        )
        if response.body.get("errors"):
            raise SystemExit(f"bulk refused documents: {str(response.body)[:500]}")

    started = time.perf_counter()
    with ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(post, loaded))
    return time.perf_counter() - started


def logferry(data_dir: Path, *args: str, tree: Path = REPO_ROOT) -> tuple[float, float, str]:
    """Run ``logferry`` of the checkout at ``tree`` (this one unless comparing); wall and CPU seconds, stderr.

    CPU seconds (user + system of the process) say what logferry itself costs, which wall time on a
    machine shared with the Elasticsearch node (and anything else) does not.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "logferry", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
    )
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"logferry {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return elapsed, cpu, done.stderr


def count(client: Elasticsearch, prefix: str) -> int:
    client.indices.refresh(index=f"{prefix}-*")
    return int(client.count(index=f"{prefix}-2*")["count"])


def drop(client: Elasticsearch, prefix: str) -> None:
    client.options(ignore_status=404).indices.delete(index=f"{prefix}-*", expand_wildcards="all")
    for name in (prefix, f"{prefix}-deadletter"):
        client.options(ignore_status=404).indices.delete_index_template(name=name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--es-url", default=os.environ.get("ELASTICSEARCH_URL", "http://127.0.0.1:9200"))
    parser.add_argument("--kafka", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument("--partitions", type=int, default=FILES)
    parser.add_argument(
        "--compare-tree",
        type=Path,
        help="Another checkout (e.g. `git archive <commit> | tar -x -C DIR`): b and c' again with its logferry.",
    )
    args = parser.parse_args()
    client = Elasticsearch(args.es_url, request_timeout=120)
    run_id = uuid.uuid4().hex[:8]
    trees = {"": REPO_ROOT, **({"0": args.compare_tree.resolve()} if args.compare_tree else {})}
    runs = ["a1", "a2", *(f"b{t}" for t in trees), *(f"c{t}" for t in trees)]
    prefixes = {run: f"bench-{run}-{run_id}" for run in runs}
    topic = f"bench-lines-{run_id}"
    groups = {t: f"{topic}-{t or 'this'}" for t in trees}
    admin = KafkaAdminClient(bootstrap_servers=args.kafka)
    results: dict[str, tuple[int, float, float | None]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            size = write_corpus(root / "logs", args.events)
            glob = str(root / "logs" / "*.log")
            print(f"corpus: {args.events:,} events, {size / 1e6:,.0f} MB in {FILES} files", flush=True)
            if args.compare_tree:
                print(f"runs b0 and c0' use the logferry of {args.compare_tree}", flush=True)

            for run, in_flight in (("a1", 1), ("a2", 2)):
                bodies = prepare_bodies(root / run, root / "logs", prefixes[run])
                install_template(client, prefixes[run])
                print(f"({run}) {len(bodies)} bulk bodies of ~{BODY_BYTES >> 20} MB prepared; posting …", flush=True)
                seconds = post_bodies(client, bodies, in_flight)
                results[f"{run} _bulk, {in_flight} in flight"] = count_after(client, prefixes[run], seconds)

            es = ["--es-url", args.es_url, "--index-prefix"]
            for t, tree in trees.items():
                seconds, cpu, _ = logferry(
                    root / f"b{t}", "ship", glob, "--to", "elasticsearch", *es, prefixes[f"b{t}"], "--once", tree=tree
                )
                results[f"b{t} ship --to elasticsearch"] = count_after(client, prefixes[f"b{t}"], seconds, cpu)

            admin.create_topics([NewTopic(topic, num_partitions=args.partitions, replication_factor=1)])
            kafka = ["--kafka", args.kafka, "--topic", topic]
            shipped, _, _ = logferry(root / "c-ship", "ship", glob, "--to", "kafka", *kafka, "--once")
            print(f"(c) shipped to Kafka in {shipped:.1f}s", flush=True)
            for t, tree in reversed(trees.items()):
                indexed, cpu, stderr = logferry(
                    root / f"c{t}-index", "index", *kafka, "--group", groups[t], "--to", "elasticsearch",
                    *es, prefixes[f"c{t}"], "--exit-when-idle", str(IDLE), tree=tree,
                )  # fmt: skip
                indexed -= IDLE
                if not re.search(r"[1-9][\d,]* events written", stderr):
                    raise SystemExit(f"the indexer wrote nothing:\n{stderr[-2000:]}")
                results[f"c{t}' index from Kafka (idle excluded)"] = count_after(
                    client, prefixes[f"c{t}"], indexed, cpu
                )
    finally:
        for prefix in prefixes.values():
            drop(client, prefix)
        cleanups = [lambda: admin.delete_topics([topic]), lambda: admin.delete_groups(list(groups.values()))]
        for cleanup in cleanups:
            with contextlib.suppress(Exception):  # the topic or group may not exist if a step failed
                cleanup()
        admin.close()
        client.close()
    report(results)


def count_after(
    client: Elasticsearch, prefix: str, seconds: float, cpu: float | None = None
) -> tuple[int, float, float | None]:
    """The run's documents; then its indices go, so that their merges do not slow the next run."""
    n = count(client, prefix)
    drop(client, prefix)
    settle(client)
    cpu_text = "" if cpu is None else f", logferry CPU {cpu:.1f}s"
    print(f"  {prefix}: {n:,} docs in {seconds:.1f}s{cpu_text}", flush=True)
    return n, seconds, cpu


def settle(client: Elasticsearch, timeout: float = 120.0) -> None:
    """Wait (bounded) until the node runs no merge, so each run starts on a quiet node."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = client.nodes.stats(metric="indices", index_metric="merge").body["nodes"]
        if all(node["indices"]["merges"]["current"] == 0 for node in stats.values()):
            return
        time.sleep(1)


def report(results: dict[str, tuple[int, float, float | None]]) -> None:
    base = max(n / seconds for name, (n, seconds, _) in results.items() if name.startswith("a"))
    for name, (n, seconds, cpu) in results.items():
        rate = n / seconds
        cpu_text = f"  logferry CPU {cpu / n * 1e6:6.1f} us/doc" if cpu is not None and n else ""
        print(
            f"{name:38s} {n:>10,} docs {seconds:8.1f}s {rate:>10,.0f} docs/s  ratio to raw {rate / base:5.2f}{cpu_text}"
        )
    print("raw = the faster of a1 and a2; target: b and c' >= 0.9 of raw")


if __name__ == "__main__":
    main()
