"""`logferry status`: per file size, offset, bytes behind and last read; per destination its writer,
last write and dead letters; from the data dir, whether a process runs on it or not."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.ingest.helpers import run_cli, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def stamped(start: int, n: int) -> bytes:
    return b"".join(b'{"@timestamp":"2026-11-20T10:00:00Z","seq":%d}\n' % i for i in range(start, start + n))


def status(data_dir: Path) -> dict[str, Any]:
    result = run_cli("status", "--json", data_dir=data_dir)
    assert result.returncode == 0, result.stderr.decode()
    report: dict[str, Any] = orjson.loads(result.stdout)
    return report


def by_path(destination: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {Path(f["path"]).name: f for f in destination["files"]}


def test_status_after_ingest_shows_each_file_and_what_is_behind(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (tmp_path / "a.log").write_bytes(stamped(0, 10))
    (tmp_path / "b.log").write_bytes(stamped(10, 5))
    assert run_cli("ingest", str(tmp_path / "*.log"), data_dir=data).returncode == 0
    with open(tmp_path / "b.log", "ab") as f:
        f.write(stamped(15, 2))
    report = status(data)
    (dest,) = report["destinations"]
    assert dest["destination"]["kind"] == "duckdb" and str(data / "events") in dest["destination"]["name"]
    assert dest["writer"]["running"] is False and dest["writer"]["stopped_cleanly"] is True
    assert dest["last_write"] is not None and dest["dead_lettered"] == 0
    files = by_path(dest)
    a, b = files["a.log"], files["b.log"]
    assert a["size"] == a["offset"] == (tmp_path / "a.log").stat().st_size and a["behind"] == 0
    assert b["size"] == (tmp_path / "b.log").stat().st_size and b["behind"] == len(stamped(15, 2))
    assert a["last_read"] is not None
    assert dest["bytes_acknowledged"] == a["offset"] + b["offset"]
    table = run_cli("status", data_dir=data)
    out = table.stdout.decode()
    assert table.returncode == 0 and "FILE" in out and "BEHIND" in out and "LAST READ" in out
    assert str(tmp_path / "b.log") in out and f"{len(stamped(15, 2))} B" in out
    assert b"2 file(s)" in table.stderr


def test_status_of_a_running_process_names_it_and_follows_its_progress(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "app.log"
    log.write_bytes(stamped(0, 100))
    env = {
        **os.environ,
        "LOGFERRY_INPUT__PATHS": orjson.dumps([str(log)]).decode(),
        "LOGFERRY_INPUT__MAX_BACKOFF": "0.5",
        "LOGFERRY_BATCH__MAX_AGE": "0.2",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "logferry", "--data-dir", str(data), "run", "--no-serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def shipped_all() -> bool:
        if not (data / "registry.json").exists() and not (data / "registry.journal").exists():
            return False
        files = by_path(status(data)["destinations"][0])
        return "app.log" in files and files["app.log"]["behind"] == 0

    try:
        wait_until(shipped_all, "every line acknowledged")
        dest = status(data)["destinations"][0]
        assert dest["writer"]["running"] is True and dest["writer"]["pid"] == proc.pid
        assert "run" in dest["writer"]["command"]
        with open(log, "ab") as f:
            f.write(stamped(100, 50))
        wait_until(shipped_all, "the appended lines acknowledged")
        assert by_path(status(data)["destinations"][0])["app.log"]["offset"] == log.stat().st_size
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
    assert status(data)["destinations"][0]["writer"]["running"] is False


def test_status_counts_dead_letters_per_destination(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "a.log"
    log.write_bytes(b'{"@timestamp":"2026-11-20T10:00:00.000Z","msg":"ok"}\n{"@timestamp":"yesterday","msg":"bad"}\n')
    env = {"LOGFERRY_PIPELINE": '["decode_json", "parse_message", "assign_id"]'}  # no time parsing
    assert run_cli("ingest", str(log), data_dir=data, env=env).returncode == 0
    assert status(data)["destinations"][0]["dead_lettered"] == 1
    assert "1 dead-lettered" in run_cli("status", data_dir=data).stdout.decode()


def test_status_of_a_data_dir_that_does_not_exist_is_one_clear_error(tmp_path: Path) -> None:
    result = run_cli("status", data_dir=tmp_path / "nothing")
    assert result.returncode == 1
    assert "does not exist" in result.stderr.decode() and "Traceback" not in result.stderr.decode()


def test_status_follows_a_registry_written_by_another_working_directory(tmp_path: Path) -> None:
    """Relative globs are stored as given; status finds the files from the writer's directory."""
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.log").write_bytes(stamped(0, 3))
    done = subprocess.run(
        [sys.executable, "-m", "logferry", "--data-dir", "data", "ingest", "logs/*.log"],
        cwd=tmp_path,
        capture_output=True,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert done.returncode == 0, done.stderr.decode()
    files = by_path(status(tmp_path / "data")["destinations"][0])
    assert files["a.log"]["size"] == (tmp_path / "logs" / "a.log").stat().st_size and files["a.log"]["behind"] == 0
