"""`ingest`, `run`, `ship` and `serve` take paths, host and port the same way; a taken port stops `run`
and `serve` at once, and both print where they answer."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner

from logferry.cli import main

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
URL = re.compile(r"at (http://127\.0\.0\.1:\d+) \(API under \S+/api/v1, Swagger UI at \S+/docs\)")


def a_log(tmp_path: Path, n: int = 25) -> Path:
    now = time.time()
    log = tmp_path / "app.log"
    log.write_bytes(
        b"".join(
            orjson.dumps({"time": int((now - 60 + i) * 1000), "level": 50, "msg": f"failed {i}", "userId": "u7"})
            + b"\n"
            for i in range(n)
        )
    )
    return log


def logferry(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "logferry", *args],
        cwd=cwd,
        env={**os.environ, "LOGFERRY_BATCH__MAX_AGE": "0.2", **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def read_url(proc: subprocess.Popen[str]) -> str:
    """The URL the command printed; stderr is read line by line until it comes (bounded by the test timeout)."""
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        found = URL.search(line)
        if found:
            return found.group(1)
    raise AssertionError(f"no URL printed: {''.join(seen)}")


def test_run_takes_paths_and_a_port_and_prints_where_it_serves(tmp_path: Path) -> None:
    log = a_log(tmp_path)
    proc = logferry("--data-dir", "data", "run", str(log), "--port", "0", cwd=tmp_path)
    try:
        base = read_url(proc)
        deadline, total = time.monotonic() + 60, None
        while time.monotonic() < deadline and total != 25:
            total = httpx.get(f"{base}/api/v1/events", params={"user": "u7"}, timeout=10).json()["total"]
            time.sleep(0.1)
        assert total == 25
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err


@pytest.mark.parametrize(
    ("command", "hint"),
    [(["run"], "--no-serve"), (["serve"], None)],
    ids=["run", "serve"],
)
def test_a_taken_port_stops_the_command_before_anything_runs(
    tmp_path: Path, taken_port: int, command: list[str], hint: str | None
) -> None:
    log = a_log(tmp_path)
    (tmp_path / "data").mkdir()
    args = [*command, str(log)] if command == ["run"] else command
    proc = logferry("--data-dir", "data", *args, "--port", str(taken_port), cwd=tmp_path)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, err
    assert f"cannot serve the API on 127.0.0.1:{taken_port}: the port is taken" in err
    assert "Traceback" not in err
    if hint:
        assert hint in err
    assert not (tmp_path / "data" / "registry.json").exists(), "the pipeline started without its API"
    assert not list((tmp_path / "data").glob("events/*.duckdb"))


def test_ingest_reads_the_configured_paths_when_given_none(tmp_path: Path) -> None:
    log = a_log(tmp_path)
    config = tmp_path / "logferry.toml"
    config.write_text(f"[input]\npaths = [{orjson.dumps(str(log)).decode()}]\n")
    result = CliRunner().invoke(main, ["--config", str(config), "--data-dir", str(tmp_path / "data"), "ingest"])
    assert result.exit_code == 0, result.output
    assert "25 lines read, 25 events written" in result.output


def test_ingest_without_paths_or_config_says_what_to_give(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path / "data"), "ingest"])
    assert result.exit_code == 2
    assert "give PATH_OR_GLOB" in result.output and "[input] paths" in result.output


@pytest.mark.parametrize("command", ["ingest", "run", "ship"])
def test_the_pipeline_commands_take_paths_the_same_way(command: str) -> None:
    usage = CliRunner().invoke(main, [command, "--help"]).output
    assert f"Usage: main {command} [OPTIONS] [PATH_OR_GLOB]..." in usage.replace("logferry", "main")


def test_run_and_serve_take_host_and_port_the_same_way() -> None:
    def options(command: str) -> dict[str, str | None]:
        cmd = main.get_command(click_context(), command)
        assert cmd is not None
        return {p.name: p.help for p in cmd.params if p.name in ("host", "port")}  # type: ignore[attr-defined]

    assert options("run") == options("serve")
    assert set(options("run")) == {"host", "port"}


def click_context() -> object:
    import click

    return click.Context(main)
