"""A block of plain lines goes through the compiled chain at once (``Chain.process_lines``) and into
the batcher in runs: the same documents, in the same order, in the same batches, with the same tag
counts as the Python chain fed line by line, when the block holds declined, cut and partial lines.

Real files, the real file source, batcher and pipeline; a sink that records every batch.
"""

from __future__ import annotations

import gc
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from core import metrics
from core.outcomes import EventCounts
from ingest import native_chain
from ingest.batch import Batch, Batcher
from ingest.collector import COLLECT_EVERY
from ingest.document import serialize
from ingest.file_source import FileSource
from ingest.native_chain import CompiledTransform, transform_for
from ingest.pipeline import Pipeline
from ingest.registry import Registry
from ingest.transform import PythonTransform, Transform
from logferry.assemble import build_processors
from logferry.config import Settings, load_settings
from logferry.sample import generate_lines
from tests.conftest import services_required

pytestmark = pytest.mark.integration

INGESTED = re.compile(rb'"ingested":"[^"]*"')
STAMP = re.compile(rb'"@timestamp":"[^"]*"')
LONG = b'{"time":"2026-11-20T10:00:00.000Z","level":"info","msg":"' + b"y" * 3000 + b'"}'
DECLINED = b'{"time":"2026-11-20T10:00:00.500Z","msg":"a duplicate key: the compiled chain declines it","msg":"x"}'
PLAIN = b"plain text, not JSON: compiled, stamped with the block's ingest time"


class RecordingSink:
    """Keeps each batch: its documents, the fields sinks read of its events, its positions."""

    name = "recording"

    def __init__(self) -> None:
        self.batches: list[tuple[list[bytes], list[tuple[Any, ...]], dict[Any, int]]] = []
        self.counts = EventCounts()
        self.threshold_seen: tuple[int, int, int] | None = None

    def write(self, batch: Batch) -> None:
        self.threshold_seen = gc.get_threshold()
        fields = [(e.get("event.id"), e.get("tags"), stamp_of_run(e)) for e in batch.events]
        self.batches.append(([without_run_times(doc) for doc in batch.docs], fields, dict(batch.positions)))

    def close(self) -> None:
        return None


def without_run_times(doc: bytes) -> bytes:
    """What differs between two runs: ``event.ingested``, and the ingest time a non-JSON line is stamped with."""
    doc = INGESTED.sub(b"", doc)
    return STAMP.sub(b"", doc) if b"_jsonparsefailure" in doc else doc


def stamp_of_run(event: dict[str, Any]) -> Any:
    """The event's ``@timestamp``, unless it is the ingest time of a non-JSON line."""
    return None if "_jsonparsefailure" in (event.get("tags") or []) else event.get("@timestamp")


def needs_native() -> None:
    if not native_chain.available() and not services_required():
        pytest.skip("the compiled chain is not installed (pip install ./native)")


def tagged() -> dict[str, float]:
    return {
        sample.labels["tag"]: sample.value
        for family in metrics.REGISTRY.collect()
        if family.name == "logferry_events_tagged"
        for sample in family.samples
        if sample.name.endswith("_total")
    }


def ingest(settings: Settings, compiled: bool, threads: int = 1) -> tuple[RecordingSink, dict[str, float], int]:
    """One run over the configured files: the recording sink, the tag counts it added, lines declined."""
    source = FileSource(settings.input, Registry(settings.data_dir / "registry.json"), once=True)
    sink = RecordingSink()
    processors = build_processors(settings)
    transform: Transform = transform_for(processors, serialize) if compiled else PythonTransform(processors, serialize)
    if compiled:
        assert isinstance(transform, CompiledTransform)
        transform.threads = threads
    pipeline = Pipeline(source, transform, Batcher(settings.batch), sink)
    before = tagged()
    pipeline.run(once=True)
    after = tagged()
    declined = transform.declined if isinstance(transform, CompiledTransform) else 0
    added = {tag: after[tag] - before.get(tag, 0.0) for tag in after}
    return sink, {tag: n for tag, n in added.items() if n}, declined


def write(log: Path, lines: list[bytes], tail: bytes = b"") -> None:
    with open(log, "ab") as f:
        f.write(b"".join(line + b"\n" for line in lines) + tail)
    past = time.time() - 3600  # finished: its unterminated last line is shipped, tagged _partial
    os.utime(log, (past, past))


@pytest.mark.parametrize("threads", [1, 2])
def test_a_block_with_declined_cut_and_partial_lines_is_stored_as_the_python_chain_stores_it(
    tmp_path: Path, threads: int
) -> None:
    needs_native()
    sample = [line for _, line in generate_lines(1500, seed=11)]
    first = [*sample[:700], DECLINED, *sample[700:701], LONG, PLAIN, *sample[701:1400]]
    second = [b'"time":"2026-11-20T10:00:01.000Z"}', *sample[1400:1450], DECLINED, LONG, *sample[1450:]]
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "app.log"
    runs: dict[bool, list[tuple[RecordingSink, dict[str, float], int]]] = {True: [], False: []}
    for lines, tail in ((first, b'{"msg":"cut by the end of the file",'), (second, b"")):
        write(log, lines, tail=tail)
        for compiled in (True, False):
            settings = load_settings(
                None,
                data_dir=tmp_path / f"data-{compiled}",
                input={"paths": [str(log)], "max_line_bytes": 2048, "close_inactive": 60},
                batch={"max_events": 28, "max_bytes": 16_384},
            )
            runs[compiled].append(ingest(settings, compiled, threads))

    for (got, got_tags, declined), (expected, expected_tags, _) in zip(runs[True], runs[False], strict=True):
        assert declined >= 3, "the declined line and the cut and partial lines went through Python"
        assert [len(docs) for docs, _, _ in got.batches] == [len(docs) for docs, _, _ in expected.batches]
        for (docs, fields, positions), (docs_py, fields_py, positions_py) in zip(
            got.batches, expected.batches, strict=True
        ):
            assert docs == docs_py
            assert fields == fields_py
            assert positions == positions_py
        assert got_tags == expected_tags
        assert got.threshold_seen is not None and got.threshold_seen[0] == COLLECT_EVERY
    sizes = [len(docs) for docs, _, _ in runs[True][0][0].batches]
    assert 28 in sizes[:-1] and min(sizes[:-1]) < 28, "batches are cut by count and by bytes inside one block"
    stored = [doc for docs, _, _ in runs[True][0][0].batches + runs[True][1][0].batches for doc in docs]
    assert len(stored) == len(first) + 1 + len(second)
    assert sum(b"_partial" in doc for doc in stored) == 2
    assert sum(b"_truncated" in doc for doc in stored) == 2


def test_a_run_gives_back_the_collector_settings_it_found(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    write(log, [line for _, line in generate_lines(50, seed=3)])
    settings = load_settings(None, data_dir=tmp_path / "data", input={"paths": [str(log)]})
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    sink, _, _ = ingest(settings, compiled=native_chain.available())
    assert sink.threshold_seen is not None and sink.threshold_seen[0] == COLLECT_EVERY
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == frozen
