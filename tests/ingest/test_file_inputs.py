"""Paths that match nothing (issue 17, item 2): `ingest` refuses them naming each, `run` warns and
keeps watching; and `serve` ends cleanly on SIGTERM (item 14)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pytest

from tests.ingest.helpers import run_cli, stored_docs, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def lines(n: int) -> bytes:
    return b"".join(b'{"@timestamp":"2026-11-20T10:00:00Z","seq":%d}\n' % i for i in range(n))


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("no/such/app.log", "no such file"),
        ("logs/*.nomatch", "matches no file"),
        ("logs", "is a directory (give a glob such as"),
    ],
    ids=["missing-file", "empty-glob", "directory"],
)
def test_ingest_fails_naming_a_path_that_matches_nothing(tmp_path: Path, given: str, said: str) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "a.log").write_bytes(lines(3))
    path = str(tmp_path / given)
    result = run_cli("ingest", path, data_dir=tmp_path / "data")
    err = result.stderr.decode()
    assert result.returncode == 1, err
    assert path in err and said in err and "Traceback" not in err
    assert "0 lines read" not in err


def test_ingest_of_one_good_and_one_wrong_path_reads_nothing_and_names_the_wrong_one(tmp_path: Path) -> None:
    good, bad = tmp_path / "a.log", tmp_path / "b.log"
    good.write_bytes(lines(3))
    result = run_cli("ingest", str(good), str(bad), data_dir=tmp_path / "data")
    err = result.stderr.decode()
    assert result.returncode == 1 and str(bad) in err and str(good) not in err.split("nothing to read")[1]
    assert stored_docs(tmp_path / "data") == []


def test_a_glob_whose_every_match_is_excluded_is_said_so(tmp_path: Path) -> None:
    (tmp_path / "debug.log").write_bytes(lines(1))
    env = {"LOGFERRY_INPUT__EXCLUDE": orjson.dumps([str(tmp_path / "debug*")]).decode()}
    result = run_cli("ingest", str(tmp_path / "*.log"), data_dir=tmp_path / "data", env=env)
    assert result.returncode == 1 and "matches only excluded files" in result.stderr.decode()


def test_run_warns_about_a_path_that_matches_nothing_and_reads_it_once_it_appears(tmp_path: Path) -> None:
    log = tmp_path / "later" / "app.log"
    env = {
        **os.environ,
        "LOGFERRY_INPUT__PATHS": orjson.dumps([str(log)]).decode(),
        "LOGFERRY_INPUT__SCAN_FREQUENCY": "0.1",
        "LOGFERRY_BATCH__MAX_AGE": "0.2",
    }
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "logferry", "--data-dir", str(data), "run", "--no-serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    try:
        os.set_blocking(proc.stderr.fileno(), False)
        seen = b""

        def warned() -> bool:
            nonlocal seen
            seen += proc.stderr.read() or b""  # type: ignore[union-attr]
            return b"no such file" in seen or proc.poll() is not None

        wait_until(warned, "the warning")
        assert proc.poll() is None, seen.decode()
        assert str(log).encode() in seen and b"watching it" in seen
        log.parent.mkdir()
        log.write_bytes(lines(20))
        wait_until(lambda: len(stored_docs_while_running(data)) == 20, "the file read once it appeared")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 0
    assert sorted(d["seq"] for d in stored_docs(data)) == list(range(20))


def stored_docs_while_running(data: Path) -> list[dict]:
    from tests.ingest.helpers import docs_in

    return docs_in(data / "events", shared=True) if (data / "events").is_dir() else []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_serve_ends_with_exit_0_on_sigterm(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_bytes(lines(2))
    assert run_cli("ingest", str(tmp_path / "a.log"), data_dir=tmp_path / "data").returncode == 0
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "logferry", "--data-dir", str(tmp_path / "data"), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        def answers() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return proc.poll() is not None

        wait_until(answers, "the API to answer", timeout=60)
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err.decode()
