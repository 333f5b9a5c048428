"""The embedded store on a full disk: nothing dead-lettered or acknowledged wrongly, every line once after.

The day files live on a small tmpfs mounted for the test (CI runs as root); a filler file takes the
space so DuckDB hits ENOSPC part-way through the run, then the filler is removed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from core.errors import LogferryError
from ingest.batch import Batcher
from ingest.config import BatchConfig
from ingest.deadletter import DeadLetterFile
from ingest.duckdb_sink import DuckDBSink
from store.day_store import DayStore
from tests.ingest.helpers import docs_in

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

LINES = 12_000
ROOM = 3 << 19


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MB tmpfs, unmounted afterwards."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount_point)], capture_output=True, check=False
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {result.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Write a filler file until only about ``leave`` bytes stay free."""
    filler = disk / "filler"
    st = os.statvfs(disk)
    size = max(0, st.f_bavail * st.f_frsize - leave)
    with open(filler, "wb") as f:
        chunk = b"\0" * (1 << 20)
        while size > 0:
            size -= f.write(chunk[: min(size, len(chunk))])
    return filler


def write_log(path: Path, n: int) -> None:
    path.write_bytes(
        b"".join(
            orjson.dumps(
                {
                    "@timestamp": f"2026-11-20T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}.000Z",
                    "level": "info",
                    "msg": "request served " + "x" * 200,
                    "seq": i,
                }
            )
            + b"\n"
            for i in range(n)
        )
    )


def start_ingest(data_dir: Path, events_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "LOGFERRY_DUCKDB__DIRECTORY": str(events_dir),
        "LOGFERRY_BATCH__MAX_EVENTS": "1000",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "logferry", "--data-dir", str(data_dir), "ingest", "-v", str(log)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for_full_disk(proc: subprocess.Popen[bytes], deadletter: Path, timeout: float = 120.0) -> bytes:
    """stderr of ``proc`` until it reports the full disk, dead-letters something, or exits."""
    assert proc.stderr is not None
    seen = b""
    deadline = time.monotonic() + timeout
    os.set_blocking(proc.stderr.fileno(), False)
    while b"No space left on device" not in seen and not deadletter.exists() and proc.poll() is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"the disk never filled up within {timeout:.0f} s:\n{seen.decode()[-3000:]}")
        chunk = proc.stderr.read()
        if chunk:
            seen += chunk
        else:
            time.sleep(0.05)
    os.set_blocking(proc.stderr.fileno(), True)
    return seen


def registry_offset(data_dir: Path, log: Path) -> int:
    try:
        registry = orjson.loads((data_dir / "registry.json").read_bytes())
    except FileNotFoundError:
        return 0
    st = os.stat(log)
    state = registry["files"].get(f"{st.st_dev}:{st.st_ino}")
    return state["offset"] if state else 0


def assert_every_line_once(events_dir: Path) -> None:
    assert sorted(d["seq"] for d in docs_in(events_dir)) == list(range(LINES))


def test_a_full_disk_is_waited_out_and_nothing_is_dead_lettered(tmp_path: Path, small_disk: Path) -> None:
    data_dir, events_dir, log = tmp_path / "data", small_disk / "events", tmp_path / "app.log"
    write_log(log, LINES)
    filler = fill(small_disk, leave=ROOM)
    proc = start_ingest(data_dir, events_dir, log)
    try:
        err = wait_for_full_disk(proc, data_dir / "deadletter.ndjson")
        assert not (data_dir / "deadletter.ndjson").exists(), "a full disk is not the documents' fault"
        assert proc.poll() is None, "ingest gave up on a full disk instead of waiting for space"
        assert registry_offset(data_dir, log) < log.stat().st_size
        filler.unlink()
        _, rest = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err += rest
    assert proc.returncode == 0, err.decode()[-3000:]
    assert b"Traceback" not in err
    assert not (data_dir / "deadletter.ndjson").exists()
    assert registry_offset(data_dir, log) == log.stat().st_size
    assert_every_line_once(events_dir)


def test_stopped_on_a_full_disk_then_rerun_stores_every_line_once(tmp_path: Path, small_disk: Path) -> None:
    data_dir, events_dir, log = tmp_path / "data", small_disk / "events", tmp_path / "app.log"
    write_log(log, LINES)
    filler = fill(small_disk, leave=ROOM)
    proc = start_ingest(data_dir, events_dir, log)
    try:
        wait_for_full_disk(proc, data_dir / "deadletter.ndjson")
        assert not (data_dir / "deadletter.ndjson").exists(), "a full disk is not the documents' fault"
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode != 0, "a run that could not store its events must not report success"
    assert b"Traceback" not in err, err.decode()[-3000:]
    assert not (data_dir / "deadletter.ndjson").exists()
    assert registry_offset(data_dir, log) < log.stat().st_size
    filler.unlink()
    rerun = start_ingest(data_dir, events_dir, log)
    _, err = rerun.communicate(timeout=180)
    assert rerun.returncode == 0, err.decode()[-3000:]
    assert not (data_dir / "deadletter.ndjson").exists()
    assert_every_line_once(events_dir)


def test_a_full_disk_under_the_dead_letter_file_leaves_whole_records_and_one_clear_error(
    tmp_path: Path, small_disk: Path
) -> None:
    """Events without a UTC day must be dead-lettered; with no room for them the batch is retried, not torn."""
    deadletter = DeadLetterFile(small_disk / "deadletter.ndjson")
    deadletter.write("duckdb", [("first", b'{"message":"kept whole"}')])
    sink = DuckDBSink(DayStore(tmp_path / "events"), deadletter)
    batcher = Batcher(BatchConfig(max_events=100_000))
    for i in range(3000):
        batcher.feed({"message": "no timestamp " + "y" * 500, "seq": i})
    batch = batcher.flush()
    assert batch is not None
    fill(small_disk, leave=64 << 10)
    with pytest.raises(LogferryError) as raised:
        sink.write(batch)
    sink.close()
    assert raised.value.retriable, "no room for dead letters is a storage problem, to retry later"
    message = str(raised.value)
    assert "\n" not in message and "No space left on device" in message and "deadletter.ndjson" in message
    records = [orjson.loads(line) for line in deadletter.path.read_bytes().splitlines()]
    assert [r["reason"] for r in records] == ["first"], "a failed append must leave no partial records"
    assert deadletter.path.read_bytes().endswith(b"\n")
