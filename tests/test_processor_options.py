"""``[processors.*]``: one section per processor, declared by the stage package that owns it, typed statically."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from logferry.config import ProcessorOptions, Settings
from logferry.stages import DEFAULT_ORDER, PROCESSORS

ROOT = Path(__file__).resolve().parent.parent


def test_every_processor_has_one_section_typed_by_its_own_config() -> None:
    fields = ProcessorOptions.model_fields
    assert list(fields) == list(PROCESSORS) == list(DEFAULT_ORDER)
    for name, processor in PROCESSORS.items():
        assert fields[name].annotation is processor.Config, name
        assert type(getattr(Settings().processors, name)) is processor.Config


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
