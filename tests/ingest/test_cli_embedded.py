"""`logferry ingest` end to end on real files into real DuckDB files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.ingest.helpers import run_cli, stored_docs

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def lines(n: int, start: int = 0) -> bytes:
    return b"".join(
        orjson.dumps(
            {"ts": f"2026-11-20T10:{(i // 60) % 60:02d}:{i % 60:02d}.000Z", "level": "info", "msg": "m", "seq": i}
        )
        + b"\n"
        for i in range(start, start + n)
    )


def test_second_ingest_of_the_same_files_adds_nothing(tmp_path: Path, data_dir: Path) -> None:
    (tmp_path / "a.log").write_bytes(lines(300))
    (tmp_path / "b.log").write_bytes(lines(200, start=300))
    first = run_cli("ingest", str(tmp_path / "*.log"), data_dir=data_dir)
    assert first.returncode == 0, first.stderr.decode()
    assert b"500 events written" in first.stderr
    second = run_cli("ingest", str(tmp_path / "*.log"), data_dir=data_dir)
    assert second.returncode == 0, second.stderr.decode()
    assert b"0 events written" in second.stderr
    docs = stored_docs(data_dir)
    assert sorted(d["seq"] for d in docs) == list(range(500))
    assert len({d["event"]["id"] for d in docs}) == 500


def test_a_replay_after_losing_the_registry_duplicates_nothing(tmp_path: Path, data_dir: Path) -> None:
    (tmp_path / "a.log").write_bytes(lines(100))
    assert run_cli("ingest", str(tmp_path / "a.log"), data_dir=data_dir).returncode == 0
    (data_dir / "registry.json").unlink()
    again = run_cli("ingest", str(tmp_path / "a.log"), data_dir=data_dir)
    assert again.returncode == 0
    assert len(stored_docs(data_dir)) == 100


def test_a_partial_line_is_ingested_once_it_is_complete(tmp_path: Path, data_dir: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(lines(2) + b'{"level":"info","msg":"half')
    assert run_cli("ingest", str(log), data_dir=data_dir).returncode == 0
    assert len(stored_docs(data_dir)) == 2
    with open(log, "ab") as f:
        f.write(b' done","seq":99}\n')
    assert run_cli("ingest", str(log), data_dir=data_dir).returncode == 0
    docs = stored_docs(data_dir)
    assert sorted(d["seq"] for d in docs) == [0, 1, 99]
    assert [d["message"] for d in docs if d["seq"] == 99] == ["half done"]


def test_bad_lines_are_stored_tagged_never_dropped(tmp_path: Path, data_dir: Path) -> None:
    log = tmp_path / "a.log"
    huge = b'{"msg":"' + b"x" * (10 * 1024 * 1024) + b'"}'
    log.write_bytes(lines(1) + b"not json at all\n" + b'{"msg":"caf\xe9 latin-1"}\n' + huge + b"\n" + b"[1,2]\n")
    result = run_cli("ingest", str(log), data_dir=data_dir)
    assert result.returncode == 0, result.stderr.decode()
    docs = sorted(stored_docs(data_dir), key=lambda d: d["log"]["offset"])
    assert len(docs) == 5
    assert "tags" not in docs[0] or "_jsonparsefailure" not in docs[0]["tags"]
    assert docs[1]["message"] == "not json at all" and "_jsonparsefailure" in docs[1]["tags"]
    assert "_utf8error" in docs[2]["tags"] and "caf" in docs[2]["message"]
    assert {"_truncated", "_jsonparsefailure"} <= set(docs[3]["tags"])
    assert len(docs[3]["message"]) <= 1_048_576
    assert "_jsonparsefailure" in docs[4]["tags"]


def test_stdin_is_read_to_its_end(data_dir: Path) -> None:
    result = run_cli("ingest", "-", data_dir=data_dir, stdin=lines(50) + b'{"msg":"no newline at the end"}')
    assert result.returncode == 0, result.stderr.decode()
    docs = stored_docs(data_dir)
    assert len(docs) == 51
    assert {d["message"] for d in docs} == {"m", "no newline at the end"}


def test_secrets_never_reach_the_store(tmp_path: Path, data_dir: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(
        orjson.dumps(
            {
                "msg": "login by bob@example.com with card 4111 1111 1111 1111",
                "password": "hunter2",
                "headers": {"Authorization": "Bearer abc.def.ghi"},
            }
        )
        + b"\n"
    )
    assert run_cli("ingest", str(log), data_dir=data_dir).returncode == 0
    raw = orjson.dumps(stored_docs(data_dir))
    for secret in (b"hunter2", b"bob@example.com", b"4111 1111 1111 1111", b"abc.def.ghi"):
        assert secret not in raw
    assert b"[REDACTED]" in raw


def test_equal_lines_on_stdin_stay_distinct_and_a_replay_adds_nothing(data_dir: Path) -> None:
    stream = b'{"msg":"same"}\n' * 3
    assert run_cli("ingest", "-", data_dir=data_dir, stdin=stream).returncode == 0
    assert run_cli("ingest", "-", data_dir=data_dir, stdin=stream).returncode == 0
    assert [d["message"] for d in stored_docs(data_dir)] == ["same"] * 3


def test_progress_is_shown_on_a_terminal_and_not_otherwise(tmp_path: Path, data_dir: Path) -> None:
    import pty

    (tmp_path / "a.log").write_bytes(lines(100))
    quiet = run_cli("ingest", str(tmp_path / "a.log"), data_dir=data_dir)
    assert b"lines/s" in quiet.stderr and b"\r" not in quiet.stderr and b"files open" not in quiet.stderr
    (tmp_path / "b.log").write_bytes(lines(100, start=100))
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "logferry", "--data-dir", str(data_dir), "ingest", str(tmp_path / "b.log")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=terminal,
            timeout=120,
            check=False,
        )
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
    assert proc.returncode == 0
    assert b"\r100 lines" in shown and b"files open" in shown
