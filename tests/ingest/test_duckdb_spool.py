"""Batches reach DuckDB without spool files, so killed runs leave none; old spool files are removed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.ingest.helpers import run_cli, stored_docs
from tests.ingest.test_run_crash import append, shipped, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def test_spool_files_left_by_a_killed_run_are_removed_at_start(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    spool = data_dir / "spool"
    spool.mkdir(parents=True)
    for i in range(30):
        (spool / f"batch-{i}.ndjson").write_bytes(b'{"a":1}\n' * 1000)
    append(tmp_path / "a.log", 0, 50)
    result = run_cli("ingest", str(tmp_path / "a.log"), data_dir=data_dir)
    assert result.returncode == 0, result.stderr.decode()
    assert not spool.exists()
    assert len(stored_docs(data_dir)) == 50


def test_kill_9_while_writing_leaves_no_files_behind(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "a.log"
    env = {
        **os.environ,
        "LOGFERRY_INPUT__PATHS": orjson.dumps([str(log)]).decode(),
        "LOGFERRY_BATCH__MAX_EVENTS": "500",
    }
    for round_ in range(3):
        append(log, round_ * 40_000, 40_000)
        before = shipped(data_dir, log)
        proc = subprocess.Popen(
            [sys.executable, "-m", "logferry", "--data-dir", str(data_dir), "run", "--no-serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(lambda b=before: shipped(data_dir, log) > b, "a batch written")  # type: ignore[misc]
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
    names = {p.relative_to(data_dir).as_posix() for p in data_dir.rglob("*") if p.is_file()}
    # Fixed names that a kill cannot multiply (the registry's temp file is rewritten by the next save).
    allowed = {
        "registry.json",
        "registry.json.tmp",
        "registry.journal",
        "events/.lock",
        "events/.2026-11-20.gate",
        "events/.2026-11-20.gate-intent",
    }
    leftovers = {n for n in names - allowed if not n.startswith("events/2026-11-20.duckdb")}
    assert not leftovers, f"a killed run left files behind: {sorted(leftovers)}"
