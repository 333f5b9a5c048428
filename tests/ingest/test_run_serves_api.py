"""`logferry run` tails into DuckDB and serves the query API over the same files in one process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_answers_queries_on_what_it_is_ingesting(tmp_path: Path) -> None:
    now = time.time()
    log = tmp_path / "app.log"
    log.write_bytes(
        b"".join(
            orjson.dumps(
                {
                    "time": int((now - 60 + i) * 1000),
                    "level": 50 if i % 3 == 0 else 30,
                    "msg": "request",
                    "req": {"method": "GET", "url": f"/api/v1/users/{i}"},
                    "res": {"statusCode": 500 if i % 3 == 0 else 200},
                    "userId": "user_7",
                }
            )
            + b"\n"
            for i in range(30)
        )
    )
    port = free_port()
    env = {
        **os.environ,
        "LOGFERRY_INPUT__PATHS": orjson.dumps([str(log)]).decode(),
        "LOGFERRY_API__PORT": str(port),
        "LOGFERRY_BATCH__MAX_AGE": "0.2",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "logferry", "--data-dir", str(tmp_path / "data"), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, body = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            try:
                r = httpx.get(f"{base}/api/v1/events", params={"user": "user_7", "level": "error"}, timeout=5)
                if r.status_code == 200 and r.json()["total"] == 10:
                    body = r.json()
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        assert body is not None, "the API never answered with the 10 errors of user_7"
        assert {e["endpoint"] for e in body["events"]} == {"/api/v1/users/{id}"}
        metrics_text = httpx.get(f"{base}/metrics", timeout=5).text
        assert "logferry_events_written_total" in metrics_text
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()
