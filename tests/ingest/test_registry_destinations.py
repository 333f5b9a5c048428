"""Positions belong to a destination (issue 17, item 5): each DuckDB store, Kafka topic on a cluster and
Elasticsearch prefix on a cluster has its own registry in the data dir; a file skipped as already
read is said to be, and where; a registry from before destinations were recorded keeps working."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest
from kafka import KafkaConsumer

from ingest.file_source.fingerprint import digest, source_id
from ingest.registry import Registry
from tests.ingest.helpers import docs_in, run_cli, stored_docs

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def stamped(start: int, n: int) -> bytes:
    return b"".join(b'{"@timestamp":"2026-11-20T10:00:00Z","seq":%d}\n' % i for i in range(start, start + n))


def test_a_second_duckdb_store_from_the_same_data_dir_gets_every_line(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "a.log"
    log.write_bytes(stamped(0, 50))
    assert run_cli("ingest", str(log), data_dir=data).returncode == 0
    other = {"LOGFERRY_DUCKDB__DIRECTORY": str(tmp_path / "other-store")}
    second = run_cli("ingest", str(log), data_dir=data, env=other)
    assert second.returncode == 0, second.stderr.decode()
    assert sorted(d["seq"] for d in docs_in(tmp_path / "other-store")) == list(range(50))
    assert sorted(d["seq"] for d in stored_docs(data)) == list(range(50))
    own = [p.name for p in data.glob("registry-duckdb-*.json")]
    assert len(own) == 1 and "other-store" in own[0]
    assert Registry(data / own[0], read_only=True).stored_destination.id.endswith("other-store")  # type: ignore[union-attr]


def test_a_file_skipped_as_already_read_is_said_to_be_and_where(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "a.log"
    log.write_bytes(stamped(0, 5))
    assert run_cli("ingest", str(log), data_dir=data).returncode == 0
    again = run_cli("ingest", str(log), data_dir=data)
    err = again.stderr.decode()
    assert again.returncode == 0
    assert "already read to their end" in err and str(log) in err
    assert str(data / "events") in err and str(data / "registry.json") in err


def test_a_registry_from_before_destinations_is_adopted_by_the_first_destination_and_kept(tmp_path: Path) -> None:
    """A registry.json as the previous version wrote it (version 1, no destination): its positions hold."""
    data, log = tmp_path / "data", tmp_path / "a.log"
    log.write_bytes(stamped(0, 30))
    st = log.stat()
    key = f"{st.st_dev}:{st.st_ino}"
    head = log.read_bytes()[:1024]
    fp = digest(head)
    data.mkdir()
    (data / "registry.json").write_bytes(
        orjson.dumps(
            {
                "version": 1,
                "files": {
                    key: {
                        "path": str(log),
                        "offset": st.st_size,
                        "source_id": source_id(key, fp, 0),
                        "fingerprint": fp,
                        "fingerprint_len": len(head),
                        "generation": 0,
                        "updated": 1.0,
                        "cut_at": None,
                        "checks": [[st.st_size, digest(log.read_bytes()[-1024:])]],
                    }
                },
            },
            option=orjson.OPT_INDENT_2,
        )
    )
    with open(log, "ab") as f:
        f.write(stamped(30, 5))
    result = run_cli("ingest", str(log), data_dir=data)
    assert result.returncode == 0, result.stderr.decode()
    assert sorted(d["seq"] for d in stored_docs(data)) == list(range(30, 35))
    migrated = orjson.loads((data / "registry.json").read_bytes())
    assert migrated["version"] == 2 and migrated["destination"]["kind"] == "duckdb"
    assert migrated["files"][key]["offset"] == log.stat().st_size
    assert migrated["files"][key]["lead"] is not None  # indexed as a candidate of copies from now on


@pytest.mark.kafka
def test_ship_after_run_in_the_same_data_dir_ships_every_line(
    tmp_path: Path, kafka_bootstrap: str, kafka_topic: str
) -> None:
    data, log = tmp_path / "data", tmp_path / "app.log"
    log.write_bytes(stamped(0, 200))
    assert run_cli("ingest", str(log), data_dir=data).returncode == 0  # the embedded path first
    shipped = run_cli(
        "ship", str(log), "--to", "kafka", "--kafka", kafka_bootstrap, "--topic", kafka_topic, "--once", data_dir=data
    )
    assert shipped.returncode == 0, shipped.stderr.decode()
    assert b"200 lines read" in shipped.stderr
    consumer = KafkaConsumer(
        kafka_topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=10_000
    )
    try:
        values = [r.value for r in consumer]
    finally:
        consumer.close()
    assert sorted(orjson.loads(v)["seq"] for v in values) == list(range(200))
    again = run_cli(
        "ship", str(log), "--to", "kafka", "--kafka", kafka_bootstrap, "--topic", kafka_topic, "--once", data_dir=data
    )
    assert b"0 lines read" in again.stderr and f"Kafka topic {kafka_topic}".encode() in again.stderr
    names = {p.name for p in data.glob("registry*.json")}
    assert "registry.json" in names and any(name.startswith(f"registry-kafka-{kafka_topic}") for name in names)
    assert os.path.getsize(data / "registry.json") > 0
