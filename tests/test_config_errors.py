"""A configuration mistake is one line naming where it was written (file and line, env var, flag), the
option, and what was probably meant — never a traceback, an internal class name or a pydantic URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import ConfigError
from logferry.config import load_settings

INTERNALS = ("Traceback", "_FromFile", "pydantic.dev", "SettingsError", "TOMLDecodeError", "validation error for")


def refusal(tmp_path: Path, toml: str | None = None, **overrides: object) -> str:
    config = None
    if toml is not None:
        config = tmp_path / "logferry.toml"
        config.write_text(toml)
    with pytest.raises(ConfigError) as caught:
        load_settings(config, **overrides)  # type: ignore[arg-type]
    message = str(caught.value)
    for internal in INTERNALS:
        assert internal not in message
    return message


def test_a_toml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    message = refusal(tmp_path, '[batch]\nmax_events = 10\n\n[input]\npaths = ["a.log"\n')
    assert message.startswith(f"{tmp_path / 'logferry.toml'} line 5")
    assert "not valid TOML" in message and "Unclosed array" in message
    message = refusal(tmp_path, "[batch]\nmax_events = = 3\n")
    assert f"{tmp_path / 'logferry.toml'} line 2, column" in message


def test_an_unknown_key_names_its_line_and_the_option_meant(tmp_path: Path) -> None:
    message = refusal(tmp_path, '[batch]\nmax_events = 10\n\n[input]\npath = ["a.log"]\n')
    assert message == (
        f"invalid configuration: {tmp_path / 'logferry.toml'} line 5: "
        "input.path is not an option (did you mean input.paths?)"
    )


def test_a_nested_table_and_an_array_of_tables_are_located(tmp_path: Path) -> None:
    message = refusal(
        tmp_path,
        "[processors.tag_http]\nslow_request_ms = 5\nslow_requst = 3\n\n"
        '[[processors.apply_path_settings.rules]]\npaths = ["a"]\ntimezon = "UTC"\n',
    )
    assert (
        "logferry.toml line 3: processors.tag_http.slow_requst is not an option "
        "(did you mean processors.tag_http.slow_request_ms?)"
    ) in message
    assert (
        "logferry.toml line 7: processors.apply_path_settings.rules.timezon is not an option (did you mean " in message
    )


def test_a_table_of_an_array_picked_by_kind_is_located_and_named(tmp_path: Path) -> None:
    """``[[alerts.rules]]`` are told apart by ``kind``, not ``type``, and a file holds many: the mistake
    names its line, the option without the kind, and the rule."""
    message = refusal(
        tmp_path,
        '[[alerts.rules]]\nname = "Fine"\nkind = "count"\nthreshold = 1\n\n'
        '[[alerts.rules]]\nname = "Slow"\nkind = "latency"\nthreshold_ms = 2\nwindow = "5 minutes"\n',
    )
    assert message == (
        f"invalid configuration: {tmp_path / 'logferry.toml'} line 10: alerts.rules.window (name = 'Slow'): "
        "'5 minutes' is not a duration such as 30s, 5m, 1h or 7d"
    )


def test_a_wrong_choice_names_the_close_one(tmp_path: Path) -> None:
    message = refusal(tmp_path, '[source]\ntype = "kafak"\n[api]\nbackend = "duck"\n')
    assert "line 2: source.type: 'kafak' is not one of 'file', 'stdin', 'kafka' (did you mean 'kafka'?)" in message
    assert "line 4: api.backend: " in message and "(did you mean 'duckdb'?)" in message
    assert "(did you mean 'tag_http' for 'tag_htp'?)" in refusal(tmp_path, 'pipeline = ["decode_json", "tag_htp"]\n')


def test_an_env_var_that_is_not_json_says_what_to_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGFERRY_INPUT__PATHS", "/var/log/app.log")
    message = refusal(tmp_path)
    assert message == (
        "LOGFERRY_INPUT__PATHS='/var/log/app.log' is not JSON: lists and tables in LOGFERRY_ variables take JSON, "
        """e.g. LOGFERRY_INPUT__PATHS='["/var/log/app.log"]'"""
    )


def test_an_env_var_mistake_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGFERRY_INPUT__PATH", '["a.log"]')
    assert refusal(tmp_path) == (
        "invalid configuration: LOGFERRY_INPUT__PATH is not an option (did you mean LOGFERRY_INPUT__PATHS?)"
    )
    monkeypatch.delenv("LOGFERRY_INPUT__PATH")
    monkeypatch.setenv("LOGFERRY_BATCH__MAX_EVENTS", "lots")
    message = refusal(tmp_path, "[batch]\nmax_events = 10\n")
    assert message.startswith("invalid configuration: LOGFERRY_BATCH__MAX_EVENTS: ")
    assert "got 'lots'" in message


def test_a_wrong_flag_value_says_it_came_from_the_command_line(tmp_path: Path) -> None:
    message = refusal(tmp_path, "[api]\nport = 8080\n", api={"port": 99999})
    assert message.startswith("invalid configuration: api.port (command line): ")


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("toml", "env", "needle"),
    [
        ('[input]\npaths = ["a.log"\n', {}, "line 2: not valid TOML"),
        ("[input]\npath = []\n", {}, "did you mean input.paths?"),
        ("", {"LOGFERRY_INPUT__PATHS": "/path"}, "LOGFERRY_INPUT__PATHS='/path' is not JSON"),
    ],
    ids=["toml-syntax", "unknown-key", "env-not-json"],
)
@pytest.mark.parametrize("command", [["ingest", "x.log"], ["run"], ["search"], ["config", "show"]])
def test_every_command_reports_a_config_mistake_as_a_usage_error(
    tmp_path: Path, toml: str, env: dict[str, str], needle: str, command: list[str]
) -> None:
    config = tmp_path / "logferry.toml"
    config.write_text(toml)
    result = subprocess.run(
        [sys.executable, "-m", "logferry", "--config", str(config), *command],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert needle in result.stderr
    for internal in INTERNALS:
        assert internal not in result.stderr
