"""The scale-out path end to end with the real CLI, a real Kafka and a real Elasticsearch.

files → `logferry ship --to kafka` → topic → `logferry index` → Elasticsearch, compared with what the
embedded path (`logferry ingest` → DuckDB) stores for the same files; direct `ship --to elasticsearch`;
an indexer killed with SIGKILL mid-run; two indexers sharing one consumer group.
"""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaConsumer

from ingest.registry import Registry
from tests.ingest.helpers import stored_docs
from tests.ingest.kafka.conftest import (
    comparable,
    es_count,
    es_docs,
    expected_ids,
    finish,
    logferry,
    run,
    wait_until,
    write_logs,
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]  # kafka / elasticsearch: added per fixture

MAX_LINE = 4096
ODD_LINES = [
    b'{"timestamp":"2026-11-18T10:00:00Z","level":"info","msg":"logs its own host","host":{"name":"app-3"}}',
    b'{"timestamp":"2026-11-18T10:00:01Z","level":"warn","msg":"flat host key","host.name":"app-4"}',
    b'{"timestamp":"2026-11-18T10:00:02Z","level":"error","msg":"caf\xe9 \xff not utf-8"}',
    b'{"timestamp":"2026-11-18T10:00:03Z","msg":"tagged by the app","tags":["from-app"]}',
    b"a plain text line without a time",
    b'{"timestamp":"2026-11-18T10:00:04Z","msg":"' + b"x" * (2 * MAX_LINE) + b'"}',
    b"",
]
ENV = {"LOGFERRY_INPUT__MAX_LINE_BYTES": str(MAX_LINE)}


def ship_to_kafka(glob: str, data_dir: Path, bootstrap: str, topic: str) -> str:
    return run(
        "ship", glob, "--to", "kafka", "--kafka", bootstrap, "--topic", topic, "--once", data_dir=data_dir, env=ENV
    )


def index_args(bootstrap: str, topic: str, group: str, es_url: str, prefix: str, idle: float) -> list[str]:
    return [
        "index",
        "--from",
        "kafka",
        "--kafka",
        bootstrap,
        "--topic",
        topic,
        "--group",
        group,
        "--to",
        "elasticsearch",
        "--es-url",
        es_url,
        "--index-prefix",
        prefix,
        "--exit-when-idle",
        str(idle),
    ]


def written(stderr: str) -> int:
    found = re.search(r"([\d,]+) events written", stderr)
    assert found, f"no summary line in:\n{stderr[-2000:]}"
    return int(found.group(1).replace(",", ""))


def test_kafka_path_indexes_what_the_embedded_path_stores(
    tmp_path: Path,
    kafka_bootstrap: str,
    scaleout_topic: Callable[[int], str],
    kafka_group_id: str,
    es_url: str,
    es_client: Elasticsearch,
    index_prefix: str,
) -> None:
    paths = write_logs(tmp_path / "logs", 3000, 4, extra=ODD_LINES)
    glob = str(tmp_path / "logs" / "*.log")
    run("ingest", glob, data_dir=tmp_path / "embedded", env=ENV)
    embedded = {doc["event"]["id"]: doc for doc in stored_docs(tmp_path / "embedded")}

    topic = scaleout_topic(3)
    ship_to_kafka(glob, tmp_path / "shipper", kafka_bootstrap, topic)
    run(*index_args(kafka_bootstrap, topic, kafka_group_id, es_url, index_prefix, 3), data_dir=tmp_path / "indexer")
    indexed = es_docs(es_client, index_prefix)

    ids = expected_ids(tmp_path / "shipper", paths)
    assert len(ids) == 3000 + len(ODD_LINES)
    assert set(indexed) == set(embedded) == ids
    mismatched = [i for i in ids if comparable(indexed[i]) != comparable(embedded[i])]
    assert not mismatched, (comparable(indexed[mismatched[0]]), comparable(embedded[mismatched[0]]))
    # The odd lines kept what makes them odd, identically on both paths.
    tagged = {tag: [d for d in indexed.values() if tag in d.get("tags", ())] for tag in ("_truncated", "_utf8error")}
    assert len(tagged["_truncated"]) == 1 and len(tagged["_utf8error"]) == 1
    assert [d["host"] for d in indexed.values() if d.get("message") == "logs its own host"] == [{"name": "app-3"}]


def test_ship_direct_to_elasticsearch_once_and_again_adds_nothing(
    tmp_path: Path, es_url: str, es_client: Elasticsearch, index_prefix: str
) -> None:
    paths = write_logs(tmp_path / "logs", 2000, 3, extra=ODD_LINES)
    args = ["ship", str(tmp_path / "logs" / "*.log"), "--to", "elasticsearch", "--es-url", es_url]
    args += ["--index-prefix", index_prefix, "--once"]
    first = run(*args, data_dir=tmp_path / "data", env=ENV)
    assert written(first) == 2000 + len(ODD_LINES)
    ids = expected_ids(tmp_path / "data", paths)
    assert set(es_docs(es_client, index_prefix)) == ids

    second = run(*args, data_dir=tmp_path / "data", env=ENV)
    assert written(second) == 0
    assert es_count(es_client, index_prefix) == len(ids)


def test_indexer_killed_mid_run_then_restarted_indexes_exactly_the_input(
    tmp_path: Path,
    kafka_bootstrap: str,
    scaleout_topic: Callable[[int], str],
    kafka_group_id: str,
    es_url: str,
    es_client: Elasticsearch,
    index_prefix: str,
) -> None:
    total = 20_000
    paths = write_logs(tmp_path / "logs", total, 6)
    topic = scaleout_topic(3)
    ship_to_kafka(str(tmp_path / "logs" / "*.log"), tmp_path / "shipper", kafka_bootstrap, topic)
    args = index_args(kafka_bootstrap, topic, kafka_group_id, es_url, index_prefix, 5)
    small_batches = {"LOGFERRY_BATCH__MAX_EVENTS": "500"}

    log = tmp_path / "killed-indexer.stderr"
    with open(log, "wb") as stderr:
        indexer = logferry(*args, "-v", data_dir=tmp_path / "indexer", env=small_batches, stderr=stderr)
        try:
            wait_until(lambda: es_count(es_client, index_prefix) > 0, 120, "the first indexed documents", log=log)
            indexer.send_signal(signal.SIGKILL)
            indexer.wait(timeout=30)
        finally:
            if indexer.poll() is None:
                indexer.kill()
                indexer.wait()
    assert indexer.returncode == -signal.SIGKILL
    at_kill = es_count(es_client, index_prefix)
    assert 0 < at_kill < total, f"{at_kill} documents indexed when killed: the kill was not mid-run"

    stderr = finish(logferry(*args, data_dir=tmp_path / "indexer", env=small_batches))
    assert written(stderr) > 0
    indexed = es_docs(es_client, index_prefix)
    assert len(indexed) == total
    assert set(indexed) == expected_ids(tmp_path / "shipper", paths)


def test_two_indexers_in_one_group_split_the_partitions(
    tmp_path: Path,
    kafka_bootstrap: str,
    scaleout_topic: Callable[[int], str],
    kafka_group_id: str,
    es_url: str,
    es_client: Elasticsearch,
    index_prefix: str,
) -> None:
    partitions = 4
    topic = scaleout_topic(partitions)
    # No idle exit racing the shipper on a slow machine: they run until every line is indexed, then
    # SIGTERM stops them (the long idle exit only bounds a failed run).
    args = index_args(kafka_bootstrap, topic, kafka_group_id, es_url, index_prefix, 600)
    paths = write_logs(tmp_path / "logs", 8000, 16)
    logs = [tmp_path / f"indexer-{n}.stderr" for n in (1, 2)]
    handles = [open(path, "wb") for path in logs]  # noqa: SIM115 - closed below
    indexers = [
        logferry(*args, "-v", data_dir=tmp_path / f"indexer-{n}", stderr=handle)
        for n, handle in zip((1, 2), handles, strict=True)
    ]
    try:

        def latest_assignments() -> list[set[str]]:
            found = []
            for path in logs:
                lines = re.findall(r"assigned partitions: (\S+)", path.read_text(errors="replace"))
                found.append(set() if not lines or lines[-1] == "none" else set(lines[-1].split(",")))
            return found

        def split() -> bool:
            first, second = latest_assignments()
            return bool(first) and bool(second) and not first & second and len(first | second) == partitions

        wait_until(split, 90, "both indexers to own some partitions", log=logs[0])
        # Sixteen files: their keys spread over the partitions of both members.
        ship_to_kafka(str(tmp_path / "logs" / "*.log"), tmp_path / "shipper", kafka_bootstrap, topic)
        wait_until(lambda: es_count(es_client, index_prefix) >= 8000, 240, "all 8,000 lines indexed", log=logs[0])
        for indexer in indexers:
            indexer.send_signal(signal.SIGTERM)
        for indexer, log in zip(indexers, logs, strict=True):
            try:
                indexer.wait(timeout=120)
            except subprocess.TimeoutExpired:
                tails = "\n".join(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}" for path in logs)
                pytest.fail(f"{log.name}: the indexer did not stop within 120 s of SIGTERM\n{tails}")
    finally:
        for indexer in indexers:
            if indexer.poll() is None:
                indexer.kill()
                indexer.wait()
        for handle in handles:
            handle.close()
    outputs = [path.read_text(errors="replace") for path in logs]
    for indexer, output in zip(indexers, outputs, strict=True):
        assert indexer.returncode == 0, output[-3000:]
    counts = [written(output) for output in outputs]
    assert all(n > 0 for n in counts), f"one indexer indexed nothing: {counts}"
    indexed = es_docs(es_client, index_prefix)
    assert len(indexed) == 8000
    assert set(indexed) == expected_ids(tmp_path / "shipper", paths)


def test_ship_tails_until_sigterm_and_checkpoints_what_kafka_acknowledged(
    tmp_path: Path, kafka_bootstrap: str, scaleout_topic: Callable[[int], str]
) -> None:
    topic = scaleout_topic(2)
    log_file = tmp_path / "logs" / "app.log"
    log_file.parent.mkdir()
    log_file.write_bytes(b"".join(b'{"msg":"before","n":%d}\n' % n for n in range(300)))
    consumer = KafkaConsumer(topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
    received: list[Any] = []

    def received_at_least(n: int) -> Callable[[], bool]:
        def check() -> bool:
            for records in consumer.poll(timeout_ms=200).values():
                received.extend(records)
            return len(received) >= n

        return check

    shipper = logferry(
        "ship", str(log_file), "--to", "kafka", "--kafka", kafka_bootstrap, "--topic", topic, data_dir=tmp_path / "data"
    )
    try:
        wait_until(received_at_least(300), 60, "the existing lines in the topic")
        with open(log_file, "ab") as f:
            f.write(b"".join(b'{"msg":"appended","n":%d}\n' % n for n in range(200)))
        wait_until(received_at_least(500), 60, "the appended lines in the topic")
        shipper.send_signal(signal.SIGTERM)
        stderr = finish(shipper, timeout=60)
    finally:
        consumer.close()
        if shipper.poll() is None:
            shipper.kill()
            shipper.wait()
    assert written(stderr) == 500
    state = Registry(tmp_path / "data" / "registry.json").get(f"{log_file.stat().st_dev}:{log_file.stat().st_ino}")
    assert state is not None and state.offset == log_file.stat().st_size
    offsets = sorted(int(dict(r.headers)["offset"]) for r in received)
    lines = log_file.read_bytes().split(b"\n")[:-1]
    assert offsets == [sum(len(line) + 1 for line in lines[:i]) for i in range(len(lines))]
    assert [r.value for r in sorted(received, key=lambda r: r.offset)] == lines
