"""The pipeline runs the compiled chain for the configured processors it has twins for, whatever their
options, and what it stores is what the Python chain stores; a processor of the user's and what follows
it run in Python.

The line-level parity of the two chains is ``tests/test_fast_path_differential.py``; these tests prove
the wiring: real files, the real file source and batcher, a sink that keeps what it is given.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from core import metrics
from core.outcomes import EventCounts
from ingest import native_chain
from ingest.batch import Batch, Batcher
from ingest.document import serialize
from ingest.file_source import FileSource
from ingest.native_chain import CompiledTransform, transform_for
from ingest.pipeline import Pipeline
from ingest.registry import Registry
from ingest.transform import Parts, PythonTransform
from logferry.assemble import build_processors
from logferry.config import Settings, load_settings
from logferry.sample import generate_lines
from tests.conftest import services_required

pytestmark = pytest.mark.integration

INGESTED = re.compile(rb'"ingested":"[^"]*"')
STAMP = re.compile(rb'"@timestamp":"[^"]*"')


class KeepingSink:
    """Keeps every batch's documents and event stubs, in order."""

    name = "keeping"

    def __init__(self) -> None:
        self.docs: list[bytes] = []
        self.events: list[dict[str, Any]] = []
        self.counts = EventCounts()

    def write(self, batch: Batch) -> None:
        self.docs.extend(batch.docs)
        self.events.extend(batch.events)

    def close(self) -> None:
        return None


def needs_native() -> None:
    if not native_chain.available() and not services_required():
        pytest.skip("the compiled chain is not installed (pip install ./native)")


DECLINED_LINE = b'{"time":"2026-11-20T10:00:00.000Z","msg":"a key twice","user":"a","user":"b"}'
"""A line the compiled chain declines (orjson keeps the last of two same keys; its reader does not take
them), so that the Python chain runs between compiled runs."""


def write_log(path: Path, lines: int) -> Path:
    """``lines`` sample lines, every 97th replaced by one the compiled chain declines."""
    sample = [DECLINED_LINE if at % 97 == 50 else line for at, (_, line) in enumerate(generate_lines(lines, seed=5))]
    path.write_bytes(b"".join(line + b"\n" for line in sample))
    return path


def run(settings: Settings, processors: list[tuple[str, Any]]) -> tuple[Pipeline, KeepingSink]:
    source = FileSource(settings.input, Registry(settings.data_dir / "registry.json"), once=True)
    sink = KeepingSink()
    pipeline = Pipeline(source, processors, Batcher(settings.batch), sink)
    pipeline.run(once=True)
    return pipeline, sink


def test_the_compiled_chain_is_installed_when_the_run_requires_everything() -> None:
    """``scripts/test`` sets LOGFERRY_REQUIRE_SERVICES=1: a missing module must fail, not fall back."""
    if not services_required():
        pytest.skip("LOGFERRY_REQUIRE_SERVICES is not 1")
    assert native_chain.available(), "logferry_native is not installed: pip install ./native"


def test_the_default_chain_runs_compiled_and_stores_what_the_python_chain_stores(tmp_path: Path) -> None:
    needs_native()
    log = write_log(tmp_path / "app.log", 3000)
    settings = load_settings(None, data_dir=tmp_path / "native", input={"paths": [str(log)]})
    compiled, compiled_sink = run(settings, build_processors(settings))
    transform = compiled.transform
    assert isinstance(transform, CompiledTransform) and transform.writes_documents
    assert transform.processed > 2500, "the common shapes of the sample go the compiled way"
    assert transform.declined > 0, "the sample has lines only the Python chain processes"

    python_settings = load_settings(None, data_dir=tmp_path / "python", input={"paths": [str(log)]})
    wrapped = [(name, _wrapped(processor)) for name, processor in build_processors(python_settings)]
    python, python_sink = run(python_settings, wrapped)
    assert isinstance(python.transform, PythonTransform)

    assert len(compiled_sink.docs) == len(python_sink.docs) == 3000
    for got, expected in zip(compiled_sink.docs, python_sink.docs, strict=True):
        assert without_run_times(got) == without_run_times(expected)
    for got_event, expected_event in zip(compiled_sink.events, python_sink.events, strict=True):
        assert got_event["event.id"] == expected_event["event.id"]
        assert got_event.get("tags", []) == expected_event.get("tags", [])
        if "_jsonparsefailure" not in got_event.get("tags", []):
            assert got_event["@timestamp"] == expected_event["@timestamp"]


def without_run_times(doc: bytes) -> bytes:
    """The document without the values of the run: ``event.ingested``, and the ingest time as the
    ``@timestamp`` of a line that is not JSON (the sample's plain-text lines)."""
    doc = INGESTED.sub(b"", doc)
    return STAMP.sub(b"", doc) if b"_jsonparsefailure" in doc else doc


def test_tags_of_compiled_lines_are_counted(tmp_path: Path) -> None:
    needs_native()
    log = tmp_path / "a.log"
    log.write_bytes(b'{"time":"2026-11-20T10:00:00.000Z","method":"GET","url":"/a","status":200,"responseTime":5000}\n')
    settings = load_settings(None, data_dir=tmp_path / "data", input={"paths": [str(log)]})
    before = metrics.REGISTRY.get_sample_value("logferry_events_tagged_total", {"tag": "slow_request"}) or 0.0
    pipeline, sink = run(settings, build_processors(settings))
    assert isinstance(pipeline.transform, CompiledTransform) and pipeline.transform.processed == 1
    after = metrics.REGISTRY.get_sample_value("logferry_events_tagged_total", {"tag": "slow_request"}) or 0.0
    assert after - before == 1
    assert orjson.loads(sink.docs[0])["tags"] == ["slow_request", "http"]


@pytest.mark.parametrize(
    "processors",
    [
        {"redact": {"mask": "***"}},
        {"parse_timestamp": {"timezone": "Europe/Paris"}},
        {"apply_path_settings": {"rules": [{"paths": ["*"], "tags": ["x"]}]}},
        {"tag_http": {"slow_request_ms": 2000}, "template_endpoint": {"routes": ["/api/v1/chat/{chatId}/messages"]}},
        {"add_metadata": {"host_name": "h1"}},
    ],
)
def test_a_changed_option_still_runs_compiled(tmp_path: Path, processors: dict[str, Any]) -> None:
    needs_native()
    settings = load_settings(None, data_dir=tmp_path / "data", processors=processors)
    transform = transform_for(build_processors(settings), serialize)
    assert isinstance(transform, CompiledTransform) and transform.writes_documents


def test_a_processor_of_ones_own_runs_in_python_from_where_it_stands(tmp_path: Path) -> None:
    """The compiled chain takes the processors before it and hands each line's event on to it and
    to those after it; a raw serializer (the Kafka sink's) runs no compiled chain at all."""
    needs_native()
    chain = build_processors(load_settings(None, data_dir=tmp_path / "data"))
    last = transform_for([*chain, ("mine", lambda event: event)], serialize)
    assert isinstance(last, CompiledTransform) and last.covered == len(chain) and not last.writes_documents
    middle = transform_for([*chain[:5], ("mine", lambda event: event), *chain[5:]], serialize)
    assert isinstance(middle, CompiledTransform) and middle.covered == 5
    first = transform_for([("mine", lambda event: event), *chain], serialize)
    assert isinstance(first, PythonTransform)
    assert isinstance(transform_for(chain, lambda event: b"raw"), PythonTransform)
    shorter = transform_for(chain[:-1], serialize)
    assert isinstance(shorter, CompiledTransform) and shorter.writes_documents


def _wrapped(processor: Any) -> Any:
    """The same processor behind a function: the chain no longer is the default one, so it runs in Python."""

    def call(event: dict[str, Any]) -> Any:
        return processor(event)

    return call


def test_every_processor_that_declares_a_twin_has_one_that_takes_its_default_options() -> None:
    """``compiled = True`` on a processor class is a promise the Rust side keeps."""
    needs_native()
    import logferry_native

    from core.processor import native_options
    from logferry.stages import PROCESSORS

    for name, cls in PROCESSORS.items():
        assert cls.compiled, f"{name} has no compiled twin"
        assert logferry_native.refusal(name, native_options(cls()), {}, {}) is None, name


def test_blocks_the_compiled_chain_runs_ahead_are_taken_up_in_order(tmp_path: Path) -> None:
    """Small reads make many blocks, each compiled one block ahead of the Python work on the one
    before: every document in file order, the same as the Python chain's, and the whole file acked."""
    needs_native()
    log = write_log(tmp_path / "app.log", 3000)
    small_reads = {"paths": [str(log)], "read_buffer_bytes": 16384}
    settings = load_settings(None, data_dir=tmp_path / "native", input=small_reads)
    compiled, compiled_sink = run(settings, build_processors(settings))
    assert isinstance(compiled.transform, CompiledTransform) and compiled.transform.processed > 2500

    python_settings = load_settings(None, data_dir=tmp_path / "python", input=small_reads)
    wrapped = [(name, _wrapped(processor)) for name, processor in build_processors(python_settings)]
    _, python_sink = run(python_settings, wrapped)
    assert len(compiled_sink.docs) == len(python_sink.docs) == 3000
    for got, expected in zip(compiled_sink.docs, python_sink.docs, strict=True):
        assert without_run_times(got) == without_run_times(expected)
    offsets = [state.offset for state in Registry(settings.data_dir / "registry.json").files.values()]
    assert offsets == [log.stat().st_size]


class FailingOnTenthBlock(CompiledTransform):
    """The compiled chain, failing on its tenth block as a bug in it would."""

    def __init__(self, transform: CompiledTransform) -> None:
        self.__dict__.update(transform.__dict__)
        self.blocks = 0

    def process_lines(self, lines: Any) -> Parts:
        self.blocks += 1
        if self.blocks == 10:
            raise RuntimeError("compiled chain failed on block 10")
        return super().process_lines(lines)


def test_a_block_that_fails_ahead_stops_the_run_and_loses_no_line(tmp_path: Path) -> None:
    """The error of a block compiled ahead is raised by the run (not lost on the chain's thread), its
    lines and those after it stay unacknowledged, and the next run stores them: each line once."""
    needs_native()
    log = write_log(tmp_path / "app.log", 3000)
    settings = small_blocks(tmp_path, log, max_events=50)
    source = FileSource(settings.input, Registry(settings.data_dir / "registry.json"), once=True)
    first_sink = KeepingSink()
    pipeline = Pipeline(source, build_processors(settings), Batcher(settings.batch), first_sink)
    assert isinstance(pipeline.transform, CompiledTransform)
    pipeline.transform = FailingOnTenthBlock(pipeline.transform)
    with pytest.raises(RuntimeError, match="block 10"):
        pipeline.run(once=True)
    first, acked, second, line_starts = rerun_after(settings, log, first_sink)
    assert 0 < len(first) < 3000
    assert first == line_starts[: len(first)], "the first run stored lines in order, up to the failed block"
    assert second == [start for start in line_starts if start >= acked], "the next run starts where the acks ended"
    assert acked == 0 or acked in line_starts[1 : len(first) + 1], "acknowledged: lines stored, no further"


def small_blocks(tmp_path: Path, log: Path, max_events: int) -> Settings:
    """Settings that read ``log`` in 16 KiB blocks (many blocks run ahead) into small batches."""
    return load_settings(
        None,
        data_dir=tmp_path / "data",
        input={"paths": [str(log)], "read_buffer_bytes": 16384},
        batch={"max_events": max_events},
    )


def rerun_after(settings: Settings, log: Path, first_sink: KeepingSink) -> tuple[list[int], int, list[int], list[int]]:
    """After a first run that ended early into ``first_sink``, run again to the end: the offsets the
    first run stored, the offset it acknowledged, the offsets the second run stored, and every line's
    start in ``log``."""
    first = [orjson.loads(doc)["log"]["offset"] for doc in first_sink.docs]
    (acked,) = [state.offset for state in Registry(settings.data_dir / "registry.json").files.values()]
    _, second_sink = run(settings, build_processors(settings))
    second = [orjson.loads(doc)["log"]["offset"] for doc in second_sink.docs]
    line_starts = [0]
    for line in log.read_bytes().splitlines(keepends=True)[:-1]:
        line_starts.append(line_starts[-1] + len(line))
    return first, acked, second, line_starts
