"""An application writing request logs, and `logferry run` as a process: what the alerting tests drive.

The lines are written by python-json-logger through the stdlib's ``logging``, as a Python service
writes its request log (method, url, status, responseTime, service), with the time of writing.
``Traffic`` writes a steady stream whose share of 5xx answers and of slow requests a test changes
while it runs: a burst of errors, then calm.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pythonjsonlogger.json import JsonFormatter

from tests.monitoring import free_port, wait_until

REPO_ROOT = Path(__file__).resolve().parent.parent


class RequestLog:
    """A service's request log file, written by python-json-logger."""

    def __init__(self, path: Path, service: str = "shop") -> None:
        self.path = path
        self.service = service
        self._handler = logging.FileHandler(path)
        self._handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s", timestamp=True))
        self.logger = logging.getLogger(f"app.{service}.{id(self)}")
        self.logger.propagate = False
        self.logger.setLevel(logging.INFO)
        self.logger.addHandler(self._handler)
        self.written = 0

    def request(self, status: int, millis: float, path: str = "/api/v1/orders/17", method: str = "GET") -> None:
        fields = {"method": method, "url": path, "status": status, "responseTime": millis, "service": self.service}
        if status >= 500:
            self.logger.error("request failed", extra=fields)
        else:
            self.logger.info("request", extra=fields)
        self.written += 1

    def close(self) -> None:
        self.logger.removeHandler(self._handler)
        self._handler.close()


@pytest.fixture
def request_log() -> Iterator[Callable[[Path], RequestLog]]:
    """``request_log(path)``: a ``RequestLog``, its file closed after the test (an open handle would
    outlive it: a later test that checks what this process holds open would find it)."""
    logs: list[RequestLog] = []

    def make(path: Path) -> RequestLog:
        logs.append(RequestLog(path))
        return logs[-1]

    yield make
    for log in logs:
        log.close()


class Traffic:
    """``rate`` requests a second into a ``RequestLog`` on a thread; ``errors``/``slow`` are the shares of
    5xx answers and of requests taking ``slow_ms`` (changed at any time); every ``paths`` one in turn."""

    def __init__(self, log: RequestLog, rate: float = 20.0, paths: tuple[str, ...] = ("/api/v1/orders/17",)) -> None:
        self.log = log
        self.rate = rate
        self.paths = paths
        self.errors = 0.0
        self.slow = 0.0
        self.slow_ms = 3000.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="traffic", daemon=True)

    def start(self) -> Traffic:
        self._thread.start()
        return self

    def _run(self) -> None:
        n, owed_errors, owed_slow = 0, 0.0, 0.0
        while not self._stop.is_set():
            n += 1
            owed_errors, owed_slow = owed_errors + self.errors, owed_slow + self.slow
            error, slow = owed_errors >= 1.0, owed_slow >= 1.0
            owed_errors -= error
            owed_slow -= slow
            self.log.request(
                503 if error else 200, self.slow_ms if slow else 20.0 + n % 30, self.paths[n % len(self.paths)]
            )
            self._stop.wait(1.0 / self.rate)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


class LogferryRun:
    """`logferry run` in a process of its own, with a config file; stopped with SIGTERM (or killed)."""

    def __init__(self, tmp: Path, config: str, port: int | None = None, name: str = "run") -> None:
        self.port = port or free_port()
        self.config = tmp / f"{name}.toml"
        self.config.write_text(config)
        self.data_dir = tmp / "data"
        self.stderr = tmp / f"{name}.stderr"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, extra_env: dict[str, str] | None = None) -> LogferryRun:
        env = {**os.environ, "LOGFERRY_API__PORT": str(self.port), "LOGFERRY_BATCH__MAX_AGE": "0.2"}
        env.update(extra_env or {})
        command = ["--config", str(self.config), "--data-dir", str(self.data_dir), "run", "-v"]
        with open(self.stderr, "ab") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "logferry", *command],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
                cwd=REPO_ROOT,
            )
        wait_until(self.healthy, 60, f"logferry run on {self.url} ({self.stderr})")
        return self

    def healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"logferry run exited {self.process.returncode}:\n{self.stderr.read_text()[-3000:]}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> int:
        if self.process is None:
            return 0
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait(10)
        self.process = None
        return code

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def metrics(self) -> str:
        return httpx.get(f"{self.url}/metrics", timeout=5).text

    def log_text(self) -> str:
        return self.stderr.read_text(errors="replace")


def metric_value(text: str, name: str, **labels: Any) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``, in Prometheus' text format."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == str(v) for k, v in labels.items()):
                total += sample.value
    return total
