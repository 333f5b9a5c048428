"""An empty ``api.api_key`` must not silently switch authentication off: it is refused at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError
from logferry.config import load_settings
from tests.ingest.helpers import run_cli


@pytest.mark.parametrize("key", ["", "   "], ids=["empty", "blank"])
def test_an_empty_api_key_in_the_config_file_is_refused(tmp_path: Path, key: str) -> None:
    config = tmp_path / "logferry.toml"
    config.write_text(f'[api]\napi_key = "{key}"\n')
    with pytest.raises(ConfigError, match="api_key is empty"):
        load_settings(config)


def test_an_empty_api_key_from_the_environment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOGFERRY_API__API_KEY", "")
    with pytest.raises(ConfigError, match="api_key is empty"):
        load_settings(None)


def test_no_api_key_and_a_real_one_are_accepted(tmp_path: Path) -> None:
    assert load_settings(None).api.api_key is None
    config = tmp_path / "logferry.toml"
    config.write_text('[api]\napi_key = "s3cret"\n')
    assert load_settings(config).api.api_key == "s3cret"


@pytest.mark.integration
@pytest.mark.e2e
def test_serve_with_an_empty_api_key_exits_with_the_reason(tmp_path: Path) -> None:
    config = tmp_path / "logferry.toml"
    config.write_text('[api]\napi_key = ""\n')
    (tmp_path / "data").mkdir()
    result = run_cli("--config", str(config), "serve", "--port", "0", data_dir=tmp_path / "data", timeout=60)
    assert result.returncode != 0
    assert b"api_key is empty" in result.stderr
