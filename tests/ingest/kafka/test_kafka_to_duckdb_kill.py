"""An indexer from Kafka into DuckDB killed -9 mid-topic and restarted stores every shipped line once.

The DuckDB store has no unique index: what the killed indexer stored past the group's committed
offsets is deleted at the restart (the committed offsets are the truth there), and read again.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from tests.ingest.helpers import stored_docs
from tests.ingest.kafka.conftest import expected_ids, finish, logferry, run, wait_until, write_logs

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.kafka]


def test_an_indexer_into_duckdb_killed_mid_topic_stores_every_line_once(
    tmp_path: Path,
    kafka_bootstrap: str,
    kafka_admin: KafkaAdminClient,
    scaleout_topic: Callable[[int], str],
    kafka_group_id: str,
) -> None:
    topic = scaleout_topic(2)
    paths = write_logs(tmp_path / "logs", 40_000, 3)
    kafka = ["--kafka", kafka_bootstrap, "--topic", topic]
    for path in paths:
        run("ship", str(path), "--to", "kafka", *kafka, "--once", data_dir=tmp_path / "shipper")
    indexer = tmp_path / "indexer"
    index = ["index", *kafka, "--group", kafka_group_id, "--to", "duckdb"]
    small = {"LOGFERRY_BATCH__MAX_EVENTS": "700"}
    for committed_before_kill in (5_000, 20_000):
        proc = logferry(*index, data_dir=indexer, env=small)
        try:
            wait_until(
                lambda n=committed_before_kill: _committed(kafka_admin, kafka_group_id) >= n,  # type: ignore[misc]
                120,
                f"{committed_before_kill} records committed",
            )
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
    finish(logferry(*index, "--exit-when-idle", "3", data_dir=indexer, env=small), timeout=300)
    ids = [d["event"]["id"] for d in stored_docs(indexer)]
    expected = expected_ids(tmp_path / "shipper", paths)
    assert (len(expected - set(ids)), len(ids) - len(set(ids))) == (0, 0), "(lost, duplicated)"
    assert set(ids) == expected


def _committed(admin: KafkaAdminClient, group: str) -> int:
    """Records the group has committed over all partitions (the indexer commits after each batch)."""
    try:
        return sum(meta.offset for meta in admin.list_group_offsets(group).get(group, {}).values() if meta.offset > 0)
    except KafkaError:
        return 0
