from pathlib import Path

import pytest

from core.errors import ConfigError
from logferry.config import example_toml, load_settings

ROOT = Path(__file__).resolve().parent.parent


def test_the_committed_example_is_every_option_with_its_default() -> None:
    assert (ROOT / "logferry.example.toml").read_text() == example_toml(), (
        "logferry.example.toml is stale: regenerate it with `logferry config example > logferry.example.toml`"
    )
    assert load_settings(ROOT / "logferry.example.toml") == load_settings(None)


def test_flags_beat_env_which_beats_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    toml = tmp_path / "logferry.toml"
    toml.write_text("[batch]\nmax_events = 10\nmax_age = 3.0\n[processors.tag_http]\nslow_request_ms = 5\n")
    assert load_settings(toml).batch.max_events == 10
    monkeypatch.setenv("LOGFERRY_BATCH__MAX_EVENTS", "20")
    monkeypatch.setenv("LOGFERRY_PROCESSORS__TAG_HTTP__SLOW_REQUEST_MS", "2000")
    monkeypatch.setenv("LOGFERRY_INPUT__PATHS", '["/var/log/app/*.log"]')
    settings = load_settings(toml)
    assert settings.batch.max_events == 20 and settings.batch.max_age == 3.0
    assert settings.processors.tag_http.slow_request_ms == 2000
    assert settings.input.paths == ["/var/log/app/*.log"]
    assert load_settings(toml, batch={"max_events": 30}).batch.max_events == 30


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("[batch]\nmax_evnts = 1\n", "max_evnts"),
        ('pipeline = ["decode_json", "no_such_step"]\n', "no_such_step"),
        ("[batch]\nmax_events = 0\n", "max_events"),
    ],
)
def test_a_wrong_config_is_refused_with_a_message_naming_the_option(tmp_path: Path, text: str, complaint: str) -> None:
    toml = tmp_path / "bad.toml"
    toml.write_text(text)
    with pytest.raises(ConfigError, match=complaint):
        load_settings(toml)


def test_a_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")
