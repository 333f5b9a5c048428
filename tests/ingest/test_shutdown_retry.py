"""Stopping while the store cannot take a batch (issue 17, item 13): each retry message says the wait
that follows it, and the process keeps it."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import time
from pathlib import Path

import pytest

from tests.ingest.test_duckdb_disk_full import (
    LINES,
    ROOM,
    fill,
    small_disk,
    start_ingest,
    wait_for_full_disk,
    write_log,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

__all__ = ["small_disk"]  # the fixture, used by name

RETRY = re.compile(rb"^(\S+ \S+) WARNING \S+: duckdb write failed \(attempt \d+\), retrying in ([\d.]+)s", re.M)


def test_retries_after_sigterm_print_the_wait_they_keep(tmp_path: Path, small_disk: Path) -> None:
    data_dir, events_dir, log = tmp_path / "data", small_disk / "events", tmp_path / "app.log"
    write_log(log, LINES)
    filler = fill(small_disk, leave=ROOM)
    proc = start_ingest(data_dir, events_dir, log)
    try:
        seen = wait_for_full_disk(proc, data_dir / "deadletter.ndjson")
        assert proc.stderr is not None
        os.set_blocking(proc.stderr.fileno(), False)
        deadline = time.monotonic() + 120
        while b"(attempt 4)" not in seen:  # retries with growing waits before the stop
            assert time.monotonic() < deadline and proc.poll() is None, seen.decode()[-2000:]
            seen += proc.stderr.read() or b""
            time.sleep(0.05)
        os.set_blocking(proc.stderr.fileno(), True)
        stopped = dt.datetime.now()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
        err = seen + err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        filler.unlink()
    after = [
        (dt.datetime.strptime(when.decode(), "%Y-%m-%d %H:%M:%S,%f"), float(wait))
        for when, wait in RETRY.findall(err)
        if dt.datetime.strptime(when.decode(), "%Y-%m-%d %H:%M:%S,%f") > stopped
    ]
    assert len(after) >= 3, err.decode()[-3000:]
    for (at, said), (next_at, _) in zip(after, after[1:], strict=False):
        assert said <= 0.5
        assert (next_at - at).total_seconds() >= said - 0.05, f"said {said}s, tried again after {next_at - at}"
