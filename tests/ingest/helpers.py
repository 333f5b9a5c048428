"""Helpers for tests of the embedded path: run the real CLI, read back the real DuckDB files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

from ingest.duckdb_store import DayStore


def run_cli(*args: str, data_dir: Path, stdin: bytes | None = None, env: dict | None = None, timeout: float = 300):
    """Run ``logferry --data-dir DATA ARGS…`` as a user would; returns the CompletedProcess."""
    return subprocess.run(
        [sys.executable, "-m", "logferry", "--data-dir", str(data_dir), *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


def stored_docs(data_dir: Path) -> list[dict]:
    """Every document in every day file, as stored."""
    store = DayStore(data_dir / "events")
    docs = []
    for day in store.days():
        con = store.connect(day)
        try:
            docs.extend(orjson.loads(doc) for (doc,) in con.execute("SELECT doc FROM events").fetchall())
        finally:
            con.close()
    return docs
