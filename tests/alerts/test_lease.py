"""One evaluator per deployment: processes sharing a data dir (a flock) or an Elasticsearch prefix (a lease
document) agree on who evaluates, and a standby takes over when the holder dies or lets go."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from alerts.store import ElasticsearchStateStore, FileLease, FileStateStore
from tests.app_logs import LogferryRun, RequestLog, metric_value
from tests.monitoring import free_port, wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_a_data_dir_lease_is_held_by_one_process_and_freed_when_it_is_killed(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from alerts.store import FileLease; "
            f"assert FileLease(Path({str(tmp_path / 'evaluator.lock')!r})).acquire(); print('held', flush=True); "
            "time.sleep(120)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        mine = FileLease(tmp_path / "evaluator.lock")
        assert not mine.acquire() and not mine.held
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        assert mine.acquire() and mine.held
        other = FileLease(tmp_path / "evaluator.lock")
        assert not other.acquire()
        mine.release()
        assert other.acquire()
        other.release()
    finally:
        holder.kill()
        holder.wait(10)


def test_an_index_lease_is_respected_until_it_lapses_and_its_holder_then_stands_by(es_client: Any) -> None:
    index = f"t-lease-{uuid.uuid4().hex[:10]}-alerts"
    store = ElasticsearchStateStore(es_client, index, lease_seconds=2.0)
    try:
        first, second = store.lease("first"), store.lease("second")
        assert first.acquire() and not second.acquire()
        assert first.acquire(), "the holder renews"
        time.sleep(2.5)  # the holder stalls past its lease
        assert second.acquire() and not first.acquire() and not first.held
        first.release()  # lets go of nothing: it no longer holds it
        assert second.acquire()
        second.release()
        assert first.acquire(), "a released lease is free at once"
        first.release()
    finally:
        es_client.indices.delete(index=index, ignore_unavailable=True)


CONFIG = """
[input]
paths = ["{log}"]
[alerts]
interval = 1
delay = 1
[[alerts.rules]]
name = "Anything"
kind = "count"
threshold = 1000000
"""


def evaluator_gauge(url: str) -> float:
    return metric_value(httpx.get(f"{url}/metrics", timeout=5).text, "logferry_alert_evaluator")


def test_run_and_serve_on_one_data_dir_evaluate_once_and_serve_takes_over_when_run_is_killed(
    tmp_path: Path, request_log: Callable[[Path], RequestLog]
) -> None:
    log = request_log(tmp_path / "app.log")
    log.request(200, 10)
    run = LogferryRun(tmp_path, CONFIG.format(log=log.path)).start()
    serve_port = free_port()
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "logferry",
            "--config",
            str(run.config),
            "--data-dir",
            str(run.data_dir),
            "serve",
            "--port",
            str(serve_port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=REPO_ROOT,
    )
    serve_url = f"http://127.0.0.1:{serve_port}"
    try:
        wait_until(lambda: evaluator_gauge(run.url) == 1, 30, "run to hold the evaluator lease")
        wait_until(lambda: _answers(serve_url), 30, "serve to answer")
        time.sleep(3)
        assert (evaluator_gauge(run.url), evaluator_gauge(serve_url)) == (1, 0)
        store = FileStateStore(run.data_dir / "alerts")
        before = store.load().evaluated_to
        run.kill()
        wait_until(lambda: evaluator_gauge(serve_url) == 1, 30, "serve to take the lease over")
        wait_until(lambda: (store.load().evaluated_to or 0) > (before or 0) + 2000, 30, "serve to go on evaluating")
    finally:
        run.kill()
        serve.send_signal(signal.SIGTERM)
        _, err = serve.communicate(timeout=60)
    assert serve.returncode == 0, err.decode()[-3000:]


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.mark.parametrize("signal_name", ["SIGTERM"])
def test_a_stopped_evaluator_lets_the_lease_go(
    tmp_path: Path, signal_name: str, request_log: Callable[[Path], RequestLog]
) -> None:
    log = request_log(tmp_path / "app.log")
    log.request(200, 10)
    run = LogferryRun(tmp_path, CONFIG.format(log=log.path)).start()
    wait_until(lambda: evaluator_gauge(run.url) == 1, 30, "run to hold the evaluator lease")
    assert run.stop() == 0
    assert FileLease(run.data_dir / "alerts" / "evaluator.lock").acquire()
