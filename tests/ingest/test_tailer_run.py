"""The tailer inside `logferry run`, end to end into DuckDB: SIGTERM with an unterminated line, and
copytruncate at 20k lines/s with a kill -9 in the middle."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from tests.ingest.helpers import start_run, stop_run, stored_docs

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

WRITER = Path(__file__).with_name("tailer_writer.py")


def offsets(data_dir: Path) -> dict[str, int]:
    try:
        registry = orjson.loads((data_dir / "registry.json").read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return {}
    return {key: state["offset"] for key, state in registry["files"].items()}


def key_of(path: Path | str) -> str:
    st = os.stat(path)
    return f"{st.st_dev}:{st.st_ino}"


def wait_until(condition, what: str, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_an_unterminated_line_at_sigterm_stays_ahead_of_the_registry_and_is_stored_once_complete(
    tmp_path: Path,
) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "app.log"
    whole = b"".join(b'{"@timestamp":"2026-11-20T10:00:00Z","seq":%d}\n' % i for i in range(100))
    log.write_bytes(whole + b'{"@timestamp":"2026-11-20T10:00:00Z",')
    proc = start_run(data_dir, log, max_events=2000)
    try:
        wait_until(lambda: offsets(data_dir).get(key_of(log)) == len(whole), "the complete lines shipped")
    finally:
        stop_run(proc)
    assert offsets(data_dir)[key_of(log)] == len(whole)
    with open(log, "ab") as f:
        f.write(b'"seq":100}\n')
    proc = start_run(data_dir, log, max_events=2000)
    try:
        wait_until(lambda: offsets(data_dir).get(key_of(log)) == log.stat().st_size, "the completed line shipped")
    finally:
        stop_run(proc)
    docs = stored_docs(data_dir)
    assert sorted(d["seq"] for d in docs) == list(range(101))
    assert not any("_partial" in d.get("tags", []) for d in docs)


def test_copytruncate_at_speed_with_a_kill_9_stores_every_line_once(tmp_path: Path) -> None:
    """Bursts at 20k lines/s with a rest after each copytruncate, so the run has read the original
    before its copy appears; killed -9 after the second rotation and restarted."""
    data_dir, log = tmp_path / "data", tmp_path / "app.log"
    total = 60_000
    writer = subprocess.Popen(
        [
            sys.executable,
            str(WRITER),
            str(log),
            "--lines",
            str(total),
            "--rate",
            "20000",
            "--rotate-every",
            "10000",
            "--mode",
            "copytruncate",
            "--pause",
            "1.5",
        ],
        stdout=subprocess.PIPE,
    )
    proc = start_run(data_dir, tmp_path / "app.log*", max_events=2000)
    try:
        wait_until(lambda: len(glob.glob(str(tmp_path / "app.log.*"))) >= 2, "two rotations")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    proc = start_run(data_dir, tmp_path / "app.log*", max_events=2000)
    try:
        writer.communicate(timeout=120)
        assert writer.returncode == 0

        def all_shipped() -> bool:
            shipped = offsets(data_dir)
            files = glob.glob(str(tmp_path / "app.log*"))
            return all(shipped.get(key_of(path)) == os.stat(path).st_size for path in files)

        wait_until(all_shipped, "every file shipped to its end")
    finally:
        stop_run(proc)
    seqs = sorted(d["seq"] for d in stored_docs(data_dir))
    duplicated = len(seqs) - len(set(seqs))
    lost = total - len(set(seqs))
    print(f"run + kill -9, copytruncate app.log*: lost {lost}, duplicated {duplicated}")
    assert (lost, duplicated) == (0, 0)
