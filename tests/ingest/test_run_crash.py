"""`logferry run` as a long-running process: kill -9 and restart, rotation while tailing, SIGTERM."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import orjson
import pytest

from tests.ingest.helpers import start_run, stop_run, stored_docs

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def append(path: Path, start: int, n: int, tag: str = "x") -> None:
    with open(path, "ab") as f:
        f.write(
            b"".join(
                orjson.dumps({"@timestamp": "2026-11-20T10:00:00.000Z", "level": "info", "msg": tag, "seq": i}) + b"\n"
                for i in range(start, start + n)
            )
        )


def shipped(data_dir: Path, path: Path) -> int:
    """The registry's offset for the file now at ``path`` (0 when unknown)."""
    try:
        registry = orjson.loads((data_dir / "registry.json").read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return 0
    st = os.stat(path)
    state = registry["files"].get(f"{st.st_dev}:{st.st_ino}")
    return state["offset"] if state else 0


def wait_until(condition, what: str, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_kill_9_mid_stream_then_restart_stores_every_line_exactly_once(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "app.log"
    append(log, 0, 5000)
    proc = start_run(data_dir, tmp_path / "*.log")
    try:
        wait_until(lambda: shipped(data_dir, log) > 0, "the first checkpoint")
        append(log, 5000, 5000)
        time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    append(log, 10_000, 5000)
    proc = start_run(data_dir, tmp_path / "*.log")
    wait_until(lambda: shipped(data_dir, log) == log.stat().st_size, "every line shipped after the restart")
    stop_run(proc)
    docs = stored_docs(data_dir)
    assert sorted(d["seq"] for d in docs) == list(range(15_000))
    assert len({d["event"]["id"] for d in docs}) == 15_000


def test_rotation_while_tailing_loses_and_repeats_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    renamed, truncated = tmp_path / "renamed.log", tmp_path / "truncated.log"
    append(renamed, 0, 1000, "r")
    append(truncated, 0, 1000, "t")
    proc = start_run(data_dir, tmp_path / "*.log")
    try:
        wait_until(lambda: shipped(data_dir, renamed) == renamed.stat().st_size, "renamed.log shipped")
        wait_until(lambda: shipped(data_dir, truncated) == truncated.stat().st_size, "truncated.log shipped")
        with open(renamed, "ab") as writer:
            os.rename(renamed, tmp_path / "renamed.log.1")
            writer.write(b"".join(orjson.dumps({"msg": "r", "seq": i}) + b"\n" for i in range(1000, 1100)))
        append(renamed, 1100, 900, "r")
        (tmp_path / "truncated.log.1").write_bytes(truncated.read_bytes())
        os.truncate(truncated, 0)
        append(truncated, 1000, 1000, "t")
        wait_until(lambda: shipped(data_dir, renamed) == renamed.stat().st_size, "the new renamed.log shipped")
        wait_until(lambda: shipped(data_dir, truncated) == truncated.stat().st_size, "truncated.log shipped again")
        wait_until(
            lambda: shipped(data_dir, tmp_path / "renamed.log.1") == (tmp_path / "renamed.log.1").stat().st_size,
            "the rotated file read to its end",
        )
    finally:
        stop_run(proc)
    docs = stored_docs(data_dir)
    for tag in ("r", "t"):
        assert sorted(d["seq"] for d in docs if d["message"] == tag) == list(range(2000)), tag
