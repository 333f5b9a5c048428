"""Real Prometheus and Alertmanager for the tests, and a webhook receiver to see what they send.

The binaries are Debian's packages, fetched by ``scripts/services`` (which also runs a shared
Prometheus and Alertmanager on loopback for people: ``scripts/services up``). A test that needs them
gets its own instances from these fixtures, on free loopback ports with its own config and data:
an alerting rule sums over every target a Prometheus scrapes, and an Alertmanager groups every alert
it is sent, so a shared instance would mix up tests running at once (other sessions included); and
outage tests stop and start their Alertmanager. Each instance is stopped at the end of its test.

Tests using these fixtures are marked ``monitoring`` (and ``integration``); under
LOGFERRY_REQUIRE_SERVICES=1 a skip for want of the binaries is a failure (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICES_SCRIPT = REPO_ROOT / "scripts" / "services"
MONITORING_FIXTURES = frozenset({"monitoring_bin", "start_alertmanager", "start_prometheus"})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """Poll ``condition`` until it returns something true; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def get_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


@pytest.fixture(scope="session")
def monitoring_bin() -> dict[str, Path]:
    """Paths of prometheus, promtool, alertmanager and amtool (scripts/services fetches them)."""
    names = ("prometheus", "promtool", "alertmanager", "amtool")
    try:
        result = subprocess.run(
            [str(SERVICES_SCRIPT), "bin", *names], capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"scripts/services bin did not run: {error}")
    if result.returncode != 0:
        pytest.skip(f"Prometheus/Alertmanager not available: {result.stderr[-2000:]}")
    paths = [Path(line) for line in result.stdout.split()]
    return dict(zip(names, paths, strict=True))


@dataclass
class Server:
    """One private Prometheus or Alertmanager process on a fixed loopback port (kept across restarts)."""

    name: str
    argv: list[str]
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(self.argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_until(self.ready, 60, f"{self.name} on {self.url} to be ready ({self.log})")
        return self

    def ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def api(self, path: str) -> Any:
        return get_json(f"{self.url}{path}")


def _start_private(binary: Path, home: Path, files: dict[str, str], flags: Callable[[Path, int], list[str]]) -> Server:
    """One private server of ``binary``: ``files`` written to its own ``home``, on a free loopback port."""
    home.mkdir()
    for file_name, text in files.items():
        (home / file_name).write_text(text)
    port = free_port()
    return Server(binary.name, [str(binary), *flags(home, port)], port, home / "server.log").start()


@pytest.fixture
def start_alertmanager(monitoring_bin: dict[str, Path], tmp_path: Path) -> Iterator[Callable[[str], Server]]:
    """Start a private Alertmanager with the given config (YAML text); stopped after the test."""
    started: list[Server] = []

    def flags(home: Path, port: int) -> list[str]:
        return [
            f"--config.file={home / 'alertmanager.yml'}",
            f"--storage.path={home / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ]

    def start(config: str) -> Server:
        home = tmp_path / f"alertmanager-{len(started)}"
        started.append(_start_private(monitoring_bin["alertmanager"], home, {"alertmanager.yml": config}, flags))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def start_prometheus(monitoring_bin: dict[str, Path], tmp_path: Path) -> Iterator[Callable[[str, str], Server]]:
    """Start a private Prometheus with the given config and rules file (YAML texts); stopped after the test."""
    started: list[Server] = []

    def flags(home: Path, port: int) -> list[str]:
        return [
            f"--config.file={home / 'prometheus.yml'}",
            f"--storage.tsdb.path={home / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ]

    def start(config: str, rules: str) -> Server:
        home = tmp_path / f"prometheus-{len(started)}"
        files = {"prometheus.yml": config, "rules.yml": rules}
        started.append(_start_private(monitoring_bin["prometheus"], home, files, flags))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@dataclass
class Received:
    path: str
    body: Any
    at: float


@dataclass
class WebhookReceiver:
    """A loopback HTTP server that records every JSON document POSTed to it (Alertmanager's webhook, or
    logferry's own receivers); ``failing`` makes it answer 503 (a receiver that is down), ``refusing``
    400 (a receiver that will never take it)."""

    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    failing: bool = False
    refusing: bool = False
    attempts: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                receiver.attempts += 1
                if receiver.failing or receiver.refusing:
                    self.send_response(503 if receiver.failing else 400)
                    self.end_headers()
                    return
                receiver.received.append(Received(self.path, json.loads(raw), time.time()))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def bodies(self, path: str | None = None) -> list[Any]:
        return [r.body for r in list(self.received) if path is None or r.path == path]


@pytest.fixture
def webhook() -> Iterator[Callable[[], WebhookReceiver]]:
    """Start webhook receivers on free loopback ports; stopped after the test."""
    started: list[WebhookReceiver] = []

    def start() -> WebhookReceiver:
        receiver = WebhookReceiver().start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        with contextlib.suppress(Exception):
            receiver.stop()


def alertmanager_config(webhook_url: str) -> str:
    """Alertmanager sending every alert to one webhook at once, resolutions too, and no repeats."""
    return f"""
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {webhook_url}/alertmanager
        send_resolved: true
"""


def notifications(receiver: WebhookReceiver, alertname: str) -> list[tuple[str, dict[str, Any]]]:
    """(status, alert) of every alert named ``alertname`` Alertmanager's webhook delivered, in order."""
    out = []
    for body in receiver.bodies("/alertmanager"):
        for alert in body.get("alerts", []):
            if alert["labels"].get("alertname") == alertname:
                out.append((alert["status"], alert))
    return out
