"""Helpers for tests of the embedded path: run the real CLI, read back the real DuckDB files."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from ingest.config import FileInputConfig
from ingest.file_source import FileSource
from ingest.registry import Registry
from store.day_store import DayStore


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
    return docs_in(data_dir / "events")


def docs_in(events_dir: Path, *, shared: bool = False) -> list[dict]:
    """Every document in every day file of ``events_dir`` (``duckdb.directory``), as stored.

    ``shared``: while a writer process holds the store, taking turns with it as readers do.
    """
    store = DayStore(events_dir)
    docs = []
    for day in store.days():
        gate = store.gate(day, exclusive=False, on_release=lambda: None) if shared else None
        with gate.held(60) if gate is not None else contextlib.nullcontext():
            con = store.connect(day)
            try:
                docs.extend(orjson.loads(doc) for (doc,) in con.execute("SELECT doc FROM events").fetchall())
            finally:
                con.close()
        if gate is not None:
            gate.close()
    return docs


def wait_until(condition: Callable[[], object], what: str, timeout: float = 120.0) -> None:
    """Poll ``condition`` until it holds, at most ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def start_run(data_dir: Path, *globs: Path, max_events: int = 500) -> subprocess.Popen[bytes]:
    """``logferry run --no-serve`` tailing ``globs`` with a fast scan and small, quick batches."""
    env = {
        **os.environ,
        "LOGFERRY_INPUT__PATHS": orjson.dumps([str(g) for g in globs]).decode(),
        "LOGFERRY_INPUT__SCAN_FREQUENCY": "0.1",
        "LOGFERRY_BATCH__MAX_EVENTS": str(max_events),
        "LOGFERRY_BATCH__MAX_AGE": "0.2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "logferry", "--data-dir", str(data_dir), "run", "--no-serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def stop_run(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and the run must flush, checkpoint and exit 0."""
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()


def file_source(tmp_path: Path, glob: str = "*.log", *, once: bool = False, **options: Any) -> FileSource:
    """A FileSource over ``tmp_path/glob`` scanning often, with its registry in ``tmp_path``."""
    config = FileInputConfig(paths=[str(tmp_path / glob)], scan_frequency=0.01, **options)
    return FileSource(config, Registry(tmp_path / "registry.json"), once=once)


def drain(src: FileSource) -> list[dict]:
    """Poll (acknowledging like a sink) until a poll after a fresh scan brings nothing."""
    events: list[dict] = []
    while True:
        src.scan()
        got = list(src.poll())
        for chunk in got:
            events.extend(chunk.events)
            src.ack({chunk.position: chunk.end_offset})
        if not any(chunk.events for chunk in got):
            return events
