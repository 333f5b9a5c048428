"""`logferry retention` on real day partitions: daily indices in a real node and DuckDB day files."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from ingest.retention import expired
from store.day_store import DayStore

TODAY = dt.datetime.now(dt.UTC).date()
KEEP = 3
OLD = [TODAY - dt.timedelta(days=d) for d in (4, 10, 40)]
RECENT = [TODAY - dt.timedelta(days=d) for d in (0, 1, 3)]


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "logferry", "--data-dir", str(data_dir), "retention", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={k: v for k, v in os.environ.items() if not k.startswith("LOGFERRY_RETENTION")},
        check=False,
    )


@pytest.mark.parametrize(("age", "gone"), [(0, False), (1, False), (3, False), (4, True), (400, True)])
def test_a_day_expires_when_older_than_keep_days_counting_today_as_zero(age: int, gone: bool) -> None:
    assert expired(TODAY - dt.timedelta(days=age), 3, TODAY) is gone


def make_day_files(data_dir: Path) -> DayStore:
    store = DayStore(data_dir / "events")
    for day in OLD + RECENT:
        con = store.connect(day, create=True)
        con.close()
    wal = store.path(OLD[0]).with_name(store.path(OLD[0]).name + ".wal")
    wal.write_bytes(b"")
    return store


def test_duckdb_dry_run_lists_and_keeps_then_real_run_deletes_only_old_days(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    store = make_day_files(data_dir)
    wal = store.path(OLD[0]).with_name(store.path(OLD[0]).name + ".wal")

    dry = cli(data_dir, "--keep-days", str(KEEP), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    listed = {line.rsplit(" ", 1)[1] for line in dry.stdout.splitlines() if line.startswith("would delete")}
    assert listed == {str(store.path(day)) for day in OLD}
    assert store.days() == sorted(OLD + RECENT) and wal.exists()

    real = cli(data_dir, "--keep-days", str(KEEP))
    assert real.returncode == 0, real.stderr
    assert store.days() == sorted(RECENT)
    assert not wal.exists()


def index_name(prefix: str, day: dt.date) -> str:
    return f"{prefix}-{day.strftime('%Y.%m.%d')}"


def test_elasticsearch_dry_run_lists_then_deletes_only_old_daily_indices_and_forcemerges(
    es_client: Elasticsearch, es_url: str, index_prefix: str, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    store = make_day_files(data_dir)
    untouchable = [f"{index_prefix}-deadletter", f"{index_prefix}-archive", f"{index_prefix}-2020.13.45"]
    for day in OLD + RECENT:
        name = index_name(index_prefix, day)
        for i in range(3):
            es_client.index(index=name, document={"n": i})
            es_client.indices.refresh(index=name)
    for name in untouchable:
        es_client.indices.create(index=name)
    old_names = {index_name(index_prefix, day) for day in OLD}
    before = set(es_client.indices.get(index=f"{index_prefix}-*"))

    dry = cli(data_dir, "--keep-days", str(KEEP), "--dry-run", "--es-url", es_url, "--index-prefix", index_prefix)
    assert dry.returncode == 0, dry.stderr
    listed = {line.rsplit(" ", 1)[1] for line in dry.stdout.splitlines() if line.startswith("would delete")}
    assert listed == old_names | {str(store.path(day)) for day in OLD}, "both backends by default with --es-url"
    assert set(es_client.indices.get(index=f"{index_prefix}-*")) == before
    assert store.days() == sorted(OLD + RECENT)

    real = cli(
        data_dir,
        "--keep-days",
        str(KEEP),
        "--backend",
        "elasticsearch",
        "--forcemerge",
        "--es-url",
        es_url,
        "--index-prefix",
        index_prefix,
    )
    assert real.returncode == 0, real.stderr
    assert set(es_client.indices.get(index=f"{index_prefix}-*")) == before - old_names
    assert store.days() == sorted(OLD + RECENT), "--backend elasticsearch leaves the day files alone"
    merged = {line.rsplit(" ", 1)[1] for line in real.stdout.splitlines() if line.startswith("force-merged")}
    assert merged == {index_name(index_prefix, day) for day in RECENT if day < TODAY}
    for name in merged:
        segments = es_client.indices.segments(index=name)["indices"][name]["shards"]["0"][0]["num_search_segments"]
        assert segments == 1
