"""``[processors.*]``: one section per processor, declared by the stage package that owns it, typed statically;
every processor declared once, on its class, and the default pipeline an explicit list apart from the registry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from logferry.config import ProcessorOptions, Settings
from logferry.stages import DEFAULT_ORDER, PROCESSORS

ROOT = Path(__file__).resolve().parent.parent


def test_every_processor_has_one_section_typed_by_its_own_config() -> None:
    fields = ProcessorOptions.model_fields
    assert list(fields) == list(PROCESSORS)
    for name, processor in PROCESSORS.items():
        assert fields[name].annotation is processor.Config, name
        assert type(getattr(Settings().processors, name)) is processor.Config


def test_every_processor_declares_itself_on_its_class() -> None:
    """Name, options model, fields read and written, and whether a compiled twin exists (``core.processor``)."""
    for name, cls in PROCESSORS.items():
        assert cls.name == name
        assert issubclass(cls.Config, BaseModel) and cls.Config.model_config.get("frozen") is True
        assert isinstance(cls.reads, tuple) and isinstance(cls.writes, tuple)
        assert type(cls.compiled) is bool
        assert callable(cls(cls.Config()))


def test_the_default_pipeline_is_an_explicit_list_of_registered_processors() -> None:
    assert DEFAULT_ORDER[0] == "decode_json" and len(set(DEFAULT_ORDER)) == len(DEFAULT_ORDER)
    assert set(DEFAULT_ORDER) <= set(PROCESSORS)
    assert Settings().pipeline == list(DEFAULT_ORDER)


def test_a_registered_processor_need_not_run_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """An optional processor: in the registry, out of the default pipeline, turned on by naming it."""
    from logferry import config, stages

    class TagNothing:
        name = "tag_nothing"
        reads: tuple[str, ...] = ()
        writes: tuple[str, ...] = ()
        compiled = False

        class Config(BaseModel):
            model_config = ConfigDict(frozen=True, extra="forbid")

        def __init__(self, config: Any = None) -> None:
            self.config = config

        def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
            return event

    monkeypatch.setitem(stages.PROCESSORS, TagNothing.name, TagNothing)
    assert TagNothing.name not in Settings().pipeline
    chosen = config.load_settings(None, pipeline=[*DEFAULT_ORDER, TagNothing.name])
    assert chosen.pipeline[-1] == TagNothing.name


def test_a_section_read_from_the_settings_has_its_configs_type_for_mypy(tmp_path: Path) -> None:
    """Code reading ``settings.processors.<name>`` type-checks without ``type: ignore``."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from enrich.endpoint import TemplateEndpointConfig\n"
        "from logferry.config import Settings\n"
        "from parsers.http import TagHttp\n\n\n"
        "def endpoint_options(settings: Settings) -> TemplateEndpointConfig:\n"
        "    return settings.processors.template_endpoint\n\n\n"
        "def tag_http_options(settings: Settings) -> TagHttp.Config:\n"
        "    return settings.processors.tag_http\n"
    )
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--follow-imports=silent",
            str(probe),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
