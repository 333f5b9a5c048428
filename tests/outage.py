"""What the outage tests share: a server of their own to stop, and a log file that keeps growing.

An outage test stops its server for tens of seconds, so it gets a private Elasticsearch node or Kafka
broker on its own ports (started and stopped with ``scripts/services``): the shared servers of the
other suites stay up. A server that does not start fails the test with the script's output.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

SERVICES = Path(__file__).resolve().parents[1] / "scripts" / "services"
LINES_PER_TICK = 20
TICK = 0.1


@dataclass
class PrivateServer:
    """A script-managed server (``es`` or ``kafka``) of one test module only, on its own ports."""

    service: str
    port: int
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _services(self, *args: str) -> None:
        result = subprocess.run(
            [str(SERVICES), *args], env=self.env, capture_output=True, text=True, timeout=600, check=False
        )
        assert result.returncode == 0, f"scripts/services {' '.join(args)} failed:\n{result.stderr[-3000:]}"

    def start(self) -> None:
        self._services("up", self.service)

    def stop(self) -> None:
        self._services("down", self.service)


def private_server(service: str, port: int, settings: dict[str, str]) -> Iterator[PrivateServer]:
    """Start ``service`` on ``port`` (``settings``: the script's LOGFERRY_… variables), yield it, stop it."""
    server = PrivateServer(service, port, {**os.environ, **settings})
    server.start()
    try:
        yield server
    finally:
        server.stop()


class GrowingLog:
    """Appends numbered lines (``line(seq)``) to a file from a thread until stopped or ``max_lines``."""

    def __init__(self, path: Path, max_lines: int, line: Callable[[int], bytes]) -> None:
        self.path = path
        self.max_lines = max_lines
        self.line = line
        self.written = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab") as f:
            while not self.stopped.is_set() and self.written < self.max_lines:
                f.write(b"".join(self.line(self.written + i) + b"\n" for i in range(LINES_PER_TICK)))
                f.flush()
                self.written += LINES_PER_TICK
                self.stopped.wait(TICK)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> int:
        self.stopped.set()
        self.thread.join(30)
        return self.written


def registry_offset(data_dir: Path) -> int:
    """The sum of the registry's offsets: what the sink acknowledged so far."""
    path = data_dir / "registry.json"
    if not path.exists():
        return 0
    return sum(state["offset"] for state in orjson.loads(path.read_bytes())["files"].values())
