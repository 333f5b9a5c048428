"""Where the compiled chain cannot take a step (a processor of the user's, an option beyond its twin), it
runs the steps before it and hands each line's event on to the Python ones: the documents are the Python
chain's, start-up says in one info line what runs where, and the lines that left the compiled chain are
counted by reason in ``logferry_component_events_total{component="compiled_chain", outcome="declined"}``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from core import metrics
from ingest.batch import Batcher
from ingest.document import serialize
from ingest.file_source import FileSource
from ingest.native_chain import CompiledTransform, transform_for
from ingest.pipeline import Pipeline
from ingest.registry import Registry
from ingest.transform import PythonTransform
from logferry.assemble import build_processors
from logferry.config import Settings, load_settings
from logferry.sample import generate_lines
from logferry.stages import DEFAULT_ORDER
from tests.ingest.test_native_lines import native_module
from tests.ingest.test_native_pipeline import KeepingSink, without_run_times

DUPLICATE = b'{"time":"2026-11-20T10:00:00Z","msg":"a key twice","msg":"again"}'


class Stamp:
    """A processor of the user's: every event gets ``labels.team``."""

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        event["labels.team"] = "checkout"
        return event


def declined(reason: str) -> float:
    labels = {"component": "compiled_chain", "outcome": "declined", "reason": reason}
    return metrics.REGISTRY.get_sample_value("logferry_component_events_total", labels) or 0.0


def run(settings: Settings, processors: list[tuple[str, Any]], python: bool = False) -> tuple[Pipeline, KeepingSink]:
    source = FileSource(settings.input, Registry(settings.data_dir / "registry.json"), once=True)
    sink = KeepingSink()
    transform = PythonTransform(processors, serialize) if python else transform_for(processors, serialize)
    pipeline = Pipeline(source, transform, Batcher(settings.batch), sink)
    pipeline.run(once=True)
    return pipeline, sink


def write_log(tmp_path: Path) -> Path:
    log = tmp_path / "app.log"
    lines = [line for _, line in generate_lines(600, seed=21)] + [DUPLICATE] * 3
    log.write_bytes(b"".join(line + b"\n" for line in lines))
    return log


@pytest.mark.parametrize(
    ("options", "extra", "python_from"),
    [
        ({}, True, "mine"),
        ({"template_endpoint": {"id_patterns": ["(?<=v)[0-9]+"]}}, False, "template_endpoint"),
        ({"redact": {"fields": ["password", "paßwort"]}}, False, "redact"),
    ],
    ids=["own-processor", "lookbehind-regex", "non-ascii-secret-term"],
)
def test_a_step_the_compiled_chain_cannot_take_runs_in_python_from_there_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, options: dict[str, Any], extra: bool, python_from: str
) -> None:
    native_module()
    log = write_log(tmp_path)

    def settings(name: str) -> Settings:
        return load_settings(None, data_dir=tmp_path / name, input={"paths": [str(log)]}, processors=options)

    def processors(config: Settings) -> list[tuple[str, Any]]:
        chain = build_processors(config)
        return [*chain, ("mine", Stamp())] if extra else chain

    before = declined(f"python:{python_from}"), declined("decode_json")
    with caplog.at_level(logging.INFO, logger="logferry.native"):
        compiled, compiled_sink = run(settings("compiled"), processors(settings("compiled")))
    transform = compiled.transform
    assert isinstance(transform, CompiledTransform) and not transform.writes_documents
    names = [name for name, _ in processors(settings("compiled"))]
    assert transform.covered == names.index(python_from)
    (said,) = [record.getMessage() for record in caplog.records if record.name == "logferry.native"]
    assert said.startswith(f"processing path: compiled for decode_json … {names[names.index(python_from) - 1]}")
    assert f"Python from {python_from} on" in said

    _, python_sink = run(settings("python"), processors(settings("python")), python=True)
    assert len(compiled_sink.docs) == len(python_sink.docs) == 603
    assert [without_run_times(d) for d in compiled_sink.docs] == [without_run_times(d) for d in python_sink.docs]
    assert all(b'"team":"checkout"' in doc for doc in compiled_sink.docs) == extra
    assert declined(f"python:{python_from}") - before[0] == 600
    assert declined("decode_json") - before[1] == 3, "the lines it declines are counted by the step that did"


def test_the_whole_chain_compiled_is_said_at_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    native_module()
    with caplog.at_level(logging.INFO, logger="logferry.native"):
        transform = transform_for(build_processors(load_settings(None, data_dir=tmp_path)), serialize)
    assert isinstance(transform, CompiledTransform) and transform.writes_documents
    assert [r.getMessage() for r in caplog.records if r.name == "logferry.native"] == [
        f"processing path: compiled (logferry_native) for all {len(DEFAULT_ORDER)} processors"
    ]
