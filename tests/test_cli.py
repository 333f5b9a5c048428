"""The `logferry` command as a newcomer meets it: global options anywhere, whole summaries, a fast start."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from logferry.cli import main

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

# Heavy clients that `--help` and `--version` must not import (issue 10: the CLI starts in well under a second).
HEAVY_MODULES = (
    "elasticsearch",
    "kafka",
    "duckdb",
    "fastapi",
    "uvicorn",
    "httpx",
    "prometheus_client",
    "pydantic_settings",
)


def logferry(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The real command in its own process, the way a user runs it (``timeout`` only guards a hang)."""
    return subprocess.run(
        [sys.executable, "-m", "logferry", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def a_log(tmp_path: Path, n: int = 20) -> Path:
    log = tmp_path / "app.log"
    log.write_bytes(
        b"".join(
            orjson.dumps({"ts": f"2026-11-20T10:00:{i:02d}.000Z", "level": "error", "msg": f"m{i}", "userId": "u1"})
            + b"\n"
            for i in range(n)
        )
    )
    return log


RANGE = ("--from", "2026-11-20T00:00:00Z", "--to", "2026-11-21T00:00:00Z")


def test_data_dir_after_the_subcommand_is_the_same_as_before_it(tmp_path: Path) -> None:
    log = a_log(tmp_path)
    after = tmp_path / "after"
    ingested = logferry("ingest", str(log), "--data-dir", str(after), cwd=tmp_path)
    assert ingested.returncode == 0, ingested.stderr
    assert "20 events written" in ingested.stderr
    assert (after / "events").is_dir()
    assert not (tmp_path / "data").exists(), "--data-dir after the subcommand was ignored"

    found = logferry("search", "--data-dir", str(after), *RANGE, "--json", cwd=tmp_path)
    assert found.returncode == 0, found.stderr
    assert len(found.stdout.splitlines()) == 20
    before = logferry("--data-dir", str(after), "search", *RANGE, "--json", cwd=tmp_path)
    assert before.stdout == found.stdout


def test_data_dir_after_a_nested_subcommand(tmp_path: Path) -> None:
    log = a_log(tmp_path)
    data = tmp_path / "d"
    assert logferry("--data-dir", str(data), "ingest", str(log)).returncode == 0
    result = logferry("stats", "errors", *RANGE, "--interval", "1d", "--json", "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    assert sum(b["count"] for b in json.loads(result.stdout)["buckets"]) == 20


def test_config_after_the_subcommand(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('data_dir = "from-config"\n[batch]\nmax_events = 123\n')
    shown = logferry("config", "show", "--config", str(config))
    assert shown.returncode == 0, shown.stderr
    effective = json.loads(shown.stdout)
    assert effective["batch"]["max_events"] == 123
    assert effective["data_dir"] == "from-config"
    with_dir = logferry("config", "show", "--config", str(config), "--data-dir", str(tmp_path / "x"))
    assert json.loads(with_dir.stdout)["data_dir"] == str(tmp_path / "x")


def test_the_option_after_the_subcommand_wins_over_the_one_before(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--data-dir", "first", "config", "show", "--data-dir", "second"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["data_dir"] == "second"


@pytest.mark.parametrize("command", [["search"], ["stats", "errors"]])
def test_a_missing_data_dir_is_an_error_not_an_empty_store(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "no-such-dir"
    result = logferry(*command, "--data-dir", str(missing), *RANGE)
    assert result.returncode != 0
    assert f"data dir {missing} does not exist" in result.stderr
    assert "0 of 0" not in result.stderr + result.stdout
    assert not missing.exists(), "asking must not create the data dir"


def test_serve_refuses_a_missing_data_dir(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir"
    # Were the check missing, serve would run until the timeout instead of exiting at once.
    result = logferry("serve", "--data-dir", str(missing), "--port", "0", timeout=120)
    assert result.returncode != 0
    assert f"data dir {missing} does not exist" in result.stderr
    assert not missing.exists()


def test_ingest_still_creates_a_missing_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "new" / "data"
    result = logferry("ingest", str(a_log(tmp_path, 3)), "--data-dir", str(data))
    assert result.returncode == 0, result.stderr
    assert (data / "registry.json").is_file()


def command_summaries(help_text: str) -> dict[str, str]:
    """The 'Commands:' section of a click help page as {name: summary}, wrapped lines joined."""
    summaries: dict[str, str] = {}
    section = help_text.split("Commands:", 1)[1]
    name = ""
    for line in section.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            break
        indent = len(line) - len(line.lstrip())
        if indent == 2:
            name, _, summary = line.strip().partition(" ")
            summaries[name] = summary.strip()
        else:
            summaries[name] = f"{summaries[name]} {line.strip()}"
    return summaries


@pytest.mark.parametrize("group", [[], ["stats"], ["config"]])
def test_every_command_summary_is_whole(group: list[str]) -> None:
    result = CliRunner().invoke(main, [*group, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    summaries = command_summaries(result.output)
    assert summaries
    for name, summary in summaries.items():
        assert not summary.endswith("..."), f"{name}: {summary!r} is cut"
        assert summary.endswith("."), f"{name}: {summary!r} is not a whole sentence"
        assert summary.count("(") == summary.count(")"), f"{name}: {summary!r} stops inside brackets"
        assert summary.count('"') % 2 == 0, f"{name}: {summary!r} stops inside a quotation"


def test_help_and_version_import_no_heavy_client() -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from logferry.cli import main
        for args in (["--help"], ["--version"]):
            try:
                main(args, prog_name="logferry")
            except SystemExit as exc:
                assert exc.code == 0, exc.code
        heavy = {HEAVY_MODULES!r}
        print("HEAVY:" + " ".join(sorted(m for m in sys.modules if m.split(".")[0] in heavy)))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "Usage: logferry" in result.stdout and "version 0.1.0" in result.stdout
    assert result.stdout.splitlines()[-1] == "HEAVY:", f"--help/--version imported {result.stdout.splitlines()[-1]}"


def test_subcommand_help_imports_no_heavy_client() -> None:
    script = textwrap.dedent(
        f"""
        import sys
        from logferry.cli import main
        for args in (["search", "--help"], ["stats", "errors", "--help"], ["config", "--help"]):
            try:
                main(args, prog_name="logferry")
            except SystemExit as exc:
                assert exc.code == 0, exc.code
        heavy = {HEAVY_MODULES!r}
        print("HEAVY:" + " ".join(sorted(m for m in sys.modules if m.split(".")[0] in heavy)))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "--data-dir" in result.stdout
    assert result.stdout.splitlines()[-1] == "HEAVY:", f"subcommand --help imported {result.stdout.splitlines()[-1]}"


def test_every_command_is_listed_and_loads() -> None:
    listed = command_summaries(CliRunner().invoke(main, ["--help"]).output)
    assert set(listed) == {
        "alerts",
        "config",
        "demo",
        "errors",
        "index",
        "ingest",
        "patterns",
        "retention",
        "run",
        "search",
        "serve",
        "ship",
        "stats",
        "status",
        "tail",
    }
    for name in listed:
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0, f"{name}: {result.output}"
        assert "--data-dir" in result.output and "--config" in result.output, name


def test_demo_run_again_says_the_data_is_there_and_its_figures_are_the_queries(tmp_path: Path) -> None:
    """The second `scripts/demo` reads nothing new: it says why, where the events are and what to try;
    its figures are what the suggested `stats` commands answer over the same window."""
    data = str(tmp_path / "data")
    first = logferry("--data-dir", data, "demo", "--lines", "3000")
    assert first.returncode == 0, first.stderr
    assert "nothing new to read" not in first.stdout
    again = logferry("--data-dir", data, "demo", "--lines", "3000")
    assert again.returncode == 0, again.stderr
    assert "0 lines read" in again.stdout
    assert f"nothing new to read: {data}/demo-logs was ingested before" in again.stdout
    assert f"start afresh: rm -rf {data} && scripts/demo" in again.stdout
    errors = int(re.search(r"^errors: ([\d,]+)", again.stdout, re.M).group(1).replace(",", ""))  # type: ignore[union-attr]
    since = re.search(r"stats errors --from (\S+)", again.stdout).group(1)  # type: ignore[union-attr]
    chart = logferry("--data-dir", data, "stats", "errors", "--from", since, "--json")
    assert sum(b["count"] for b in json.loads(chart.stdout)["buckets"]) == errors
    top = logferry(
        "--data-dir", data, "stats", "top", "endpoint", "--errors", "--from", since, "--limit", "5", "--json"
    )
    listed = re.findall(r"^\s+([\d,]+)  (/\S+)$", again.stdout, re.M)
    assert [(e["key"], e["count"]) for e in json.loads(top.stdout)["top"]] == [
        (endpoint, int(n.replace(",", ""))) for n, endpoint in listed
    ]
