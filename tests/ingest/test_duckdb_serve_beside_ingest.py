"""Readers (`serve`, `search`) and the writer (`run`, `ingest`) on one embedded data dir at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from tests.ingest.helpers import run_cli
from tests.ingest.test_run_serves_api import free_port

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

ROUNDS = 12
PER_ROUND = 400


def append(path: Path, start: int, n: int) -> None:
    now_ms = int(time.time() * 1000)
    with open(path, "ab") as f:
        f.write(
            b"".join(
                orjson.dumps({"time": now_ms - 600_000 + i, "level": 50 if i % 4 == 0 else 30, "msg": "req", "seq": i})
                + b"\n"
                for i in range(start, start + n)
            )
        )


def logferry(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "logferry", "--data-dir", str(data_dir), *args],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def total(base: str) -> int:
    r = httpx.get(f"{base}/api/v1/events", params={"from": "now-1h", "size": 1}, timeout=30)
    assert r.status_code == 200, f"serve answered {r.status_code}: {r.text[:500]}"
    return int(r.json()["total"])


def wait_for_total(base: str, expected: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    seen = -1
    while time.monotonic() < deadline:
        try:
            seen = total(base)
        except httpx.TransportError:
            seen = -1
        if seen == expected:
            return
        time.sleep(0.1)
    raise AssertionError(f"serve shows {seen} events, expected {expected}")


def stop(proc: subprocess.Popen[bytes]) -> bytes:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    return err


def test_serve_search_and_a_second_writer_beside_run(tmp_path: Path) -> None:
    data_dir, log = tmp_path / "data", tmp_path / "app.log"
    data_dir.mkdir()
    log.touch()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = logferry(data_dir, "serve", "--port", str(port))
    run = None
    try:
        wait_for_total(base, 0)
        run = logferry(
            data_dir,
            "run",
            "--no-serve",
            env={
                "LOGFERRY_INPUT__PATHS": orjson.dumps([str(log)]).decode(),
                "LOGFERRY_INPUT__SCAN_FREQUENCY": "0.1",
                "LOGFERRY_BATCH__MAX_EVENTS": "200",
                "LOGFERRY_BATCH__MAX_AGE": "0.2",
            },
        )
        answered = 0
        for round_ in range(ROUNDS):
            append(log, round_ * PER_ROUND, PER_ROUND)
            shown = total(base)
            assert 0 <= shown <= (round_ + 1) * PER_ROUND
            answered += 1
            found = run_cli("search", "--from", "now-1h", "--json", "--limit", "5", data_dir=data_dir, timeout=120)
            assert found.returncode == 0, found.stderr.decode()
            assert b"Traceback" not in found.stderr
        assert answered == ROUNDS
        wait_for_total(base, ROUNDS * PER_ROUND)

        second = run_cli("ingest", str(log), data_dir=data_dir, timeout=120)
        assert second.returncode != 0
        message = second.stderr.decode()
        assert "Traceback" not in message and "IOException" not in message
        assert f"another logferry process (pid {run.pid}) is writing to" in message

        errors = run_cli("search", "level:error", "--from", "now-1h", "--json", "--limit", "100000", data_dir=data_dir)
        assert errors.returncode == 0, errors.stderr.decode()
        assert len(errors.stdout.splitlines()) == ROUNDS * PER_ROUND // 4
    finally:
        run_err = stop(run) if run is not None else b""
        serve_err = stop(serve)
    assert run is not None and run.returncode == 0, run_err.decode()[-3000:]
    assert b"Traceback" not in serve_err, serve_err.decode()[-3000:]


def test_serve_answers_while_ingest_writes_and_after(tmp_path: Path) -> None:
    """`serve` first, then `ingest` (one-shot) on the same dir: ingest is not refused, serve sees it all."""
    data_dir, log = tmp_path / "data", tmp_path / "app.log"
    data_dir.mkdir()
    append(log, 0, 3000)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = logferry(data_dir, "serve", "--port", str(port))
    try:
        wait_for_total(base, 0)
        ingest = logferry(data_dir, "ingest", str(log), env={"LOGFERRY_BATCH__MAX_EVENTS": "100"})
        while ingest.poll() is None:
            assert total(base) <= 3000
        _, err = ingest.communicate(timeout=120)
        assert ingest.returncode == 0, err.decode()[-3000:]
        assert total(base) == 3000
    finally:
        serve_err = stop(serve)
    assert b"Traceback" not in serve_err, serve_err.decode()[-3000:]
