"""Issue 10's table, before and after, on one corpus in one run (not a test).

The "before" tree is exported from git (``--before REF``, default: main before the issue's first
change) into a temporary directory and run from there, the "after" tree is this checkout; both run
the real CLI as a user would (``python -m logferry …``), one after the other, on the same corpus, the
same Elasticsearch and the same Kafka broker. Wall seconds include each process's start-up; CPU
seconds (user + system of the child) are printed too, since wall time on a shared machine measures
the neighbours as well.

    python -m bench.before_after [--lines 200000] [--before e967468^] [--no-servers]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from logferry.sample import write_sample

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BEFORE = "e967468^"
ES_URL = os.environ.get("ELASTICSEARCH_URL", "http://127.0.0.1:9200")
KAFKA = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


@dataclass
class Timing:
    wall: float
    cpu: float


def export_tree(ref: str, into: Path) -> Path:
    """The files of ``ref`` (no .git), so the old code runs from its own directory."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    into.mkdir(parents=True)
    archive_path = into.with_suffix(".tar")
    archive_path.write_bytes(archive)
    with tarfile.open(archive_path) as tar:
        tar.extractall(into, filter="data")
    archive_path.unlink()
    return into


def cli(tree: Path, *args: str, data_dir: Path, env: dict[str, str] | None = None) -> Timing:
    """Run ``python -m logferry`` of ``tree`` (its packages first on the path) and time it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "logferry", "--data-dir", str(data_dir), *args],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree), **(env or {})},
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{tree.name}: logferry {' '.join(args)} exited {result.returncode}:\n{result.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu)


def version(tree: Path, scratch: Path) -> Timing:
    """The fastest of five ``--version`` runs: start-up and import cost only."""
    return min((cli(tree, "--version", data_dir=scratch) for _ in range(5)), key=lambda t: t.wall)


def topic_size(topic: str) -> int:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=KAFKA)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def es_count(prefix: str) -> int:
    from elasticsearch import Elasticsearch

    client = Elasticsearch(ES_URL)
    client.indices.refresh(index=f"{prefix}-2*", allow_no_indices=True, ignore_unavailable=True)
    return int(client.count(index=f"{prefix}-2*", allow_no_indices=True, ignore_unavailable=True)["count"])


def es_delete(prefix: str) -> None:
    from elasticsearch import Elasticsearch

    client = Elasticsearch(ES_URL)
    client.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}*")
    client.options(ignore_status=404).indices.delete_template(name=f"{prefix}*")
    client.indices.delete(index=f"{prefix}*", expand_wildcards="all", ignore_unavailable=True, allow_no_indices=True)


def measure(tree: Path, corpus: Path, lines: int, scratch: Path, servers: bool) -> dict[str, tuple[Timing, int]]:
    """Each path of the table for one tree: its timing and how many events it delivered."""
    glob = str(corpus / "*.log*")
    tag = f"{tree.name}-{uuid.uuid4().hex[:6]}"
    rows: dict[str, tuple[Timing, int]] = {"--version": (version(tree, scratch / f"{tag}-v"), 0)}
    rows["ingest → DuckDB"] = (cli(tree, "ingest", glob, data_dir=scratch / f"{tag}-ingest"), lines)
    if not servers:
        return rows
    topic = f"bench-{tag}"
    shipped = cli(tree, "ship", glob, "--to", "kafka", "--kafka", KAFKA, "--topic", topic, "--once",
                  data_dir=scratch / f"{tag}-ship")  # fmt: skip
    rows["ship --to kafka"] = (shipped, topic_size(topic))
    prefix = f"bench-{tag}".lower()
    try:
        idle = 5.0
        indexed = cli(tree, "index", "--from", "kafka", "--kafka", KAFKA, "--topic", topic, "--group", f"g-{tag}",
                      "--to", "elasticsearch", "--es-url", ES_URL, "--index-prefix", prefix,
                      "--exit-when-idle", str(idle), data_dir=scratch / f"{tag}-index")  # fmt: skip
        rows["index kafka → elasticsearch"] = (Timing(indexed.wall - idle, indexed.cpu), es_count(prefix))
    finally:
        es_delete(prefix)
    prefix = f"bench-direct-{tag}".lower()
    try:
        direct = cli(tree, "ship", glob, "--to", "elasticsearch", "--es-url", ES_URL, "--index-prefix", prefix,
                     "--once", data_dir=scratch / f"{tag}-direct")  # fmt: skip
        rows["ship --to elasticsearch"] = (direct, es_count(prefix))
    finally:
        es_delete(prefix)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--before", default=DEFAULT_BEFORE, help="git ref of the 'before' tree")
    parser.add_argument("--no-servers", action="store_true", help="only --version and ingest → DuckDB")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="logferry-before-after-") as tmp:
        scratch = Path(tmp)
        corpus = scratch / "corpus"
        write_sample(corpus, args.lines, seed=7)
        size = sum(p.stat().st_size for p in corpus.iterdir())
        print(f"corpus: {args.lines:,} lines, {size / 1e6:,.0f} MB; before = {args.before}")
        before = export_tree(args.before, scratch / "before")
        results = {}
        for name, tree in (("before", before), ("after", ROOT)):
            results[name] = measure(tree, corpus, args.lines, scratch, not args.no_servers)
        print_table(results, args.lines)


def rate(timing: Timing, events: int) -> str:
    return f"{events / timing.wall:>9,.0f} ev/s ({timing.cpu:5.1f} s CPU)"


def print_table(results: dict[str, dict[str, tuple[Timing, int]]], lines: int) -> None:
    print(f"{'path':<30} {'before':>28} {'after':>28} {'speed-up':>9}")
    for path, (after, delivered) in results["after"].items():
        old, old_delivered = results["before"][path]
        if path == "--version":
            print(f"{path:<30} {old.wall:>26.2f} s {after.wall:>26.2f} s {old.wall / after.wall:>8.1f}x")
            continue
        complete = delivered == lines and old_delivered == lines
        note = "" if complete else f"  (delivered {old_delivered:,} / {delivered:,})"
        speed = (delivered / after.wall) / max(old_delivered / old.wall, 1e-9)
        print(f"{path:<30} {rate(old, old_delivered):>28} {rate(after, delivered):>28} {speed:>8.1f}x{note}")


if __name__ == "__main__":
    main()
