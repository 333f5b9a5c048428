"""A sink with ``concurrency`` > 1 is written by that many writer threads at once, and the source is
still acknowledged in batch order: a batch that finishes before an older one waits for it.

The sink here holds its first batch until the test lets it go; what is under test is the pipeline's
ordering of acknowledgements, with the real file source and registry. The Elasticsearch sink, the
one that sets ``concurrency``, runs through the same path against a real node in
``tests/ingest/elasticsearch/test_es_pipeline_writers.py``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import orjson
import pytest

from core.chunk import Position
from core.outcomes import EventCounts
from ingest.batch import Batch, Batcher
from ingest.config import BatchConfig
from ingest.document import serialize
from ingest.file_source import FileSource
from ingest.pipeline import Pipeline
from logferry.assemble import build_processors
from logferry.config import load_settings
from tests.ingest.helpers import file_source

LINES = 200
BATCH = 10
READ = 4096
"""Bytes read at a time: with ~400-byte lines a chunk ends about every 10 lines, so most batches carry
positions to acknowledge."""


def line(n: int) -> bytes:
    return orjson.dumps({"msg": "hello", "seq": n, "pad": "x" * 360}) + b"\n"


class HoldsFirstBatch:
    """Two writers at once; the first batch is held until ``release`` is set."""

    name = "holds-first"
    concurrency = 2

    def __init__(self) -> None:
        self.counts = EventCounts()
        self.release = threading.Event()
        self.later_written = threading.Event()
        self.seqs: list[int] = []
        self._lock = threading.Lock()
        self._seen = 0

    def write(self, batch: Batch) -> None:
        with self._lock:
            first = self._seen == 0
            self._seen += 1
        if first:
            assert self.release.wait(60), "the test never released the first batch"
        seqs = [orjson.loads(doc)["seq"] for doc in batch.docs]
        with self._lock:
            self.seqs.extend(seqs)
        if not first:
            self.later_written.set()

    def close(self) -> None:
        return None


class RecordingSource(FileSource):
    """The real file source, noting each acknowledgement's offsets as the pipeline gives them."""

    acks: list[dict[Position, int]]

    def ack(self, positions: dict[Position, int]) -> None:
        self.acks.append(dict(positions))
        super().ack(positions)


def start(
    tmp_path: Path, log: Path, sink: HoldsFirstBatch
) -> tuple[Pipeline, RecordingSource, threading.Thread, list[BaseException]]:
    """``LINES`` lines in ``log``, run once into ``sink`` on a thread of its own; what it raises is kept."""
    log.write_bytes(b"".join(line(n) for n in range(LINES)))
    plain = file_source(tmp_path, once=True, read_buffer_bytes=READ)
    source = RecordingSource(plain.config, plain.registry, once=True)
    source.acks = []
    settings = load_settings(None, data_dir=tmp_path / "data")
    batcher = Batcher(BatchConfig(max_events=BATCH, max_age=60.0), serialize)
    pipeline = Pipeline(source, build_processors(settings), batcher, sink, shutdown_grace=1.0)
    failures: list[BaseException] = []

    def run() -> None:
        try:
            pipeline.run(once=True)
        except BaseException as exc:  # noqa: BLE001 - asserted by the tests
            failures.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    return pipeline, source, runner, failures


def test_a_later_batch_written_first_is_acknowledged_only_after_the_older_one(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    sink = HoldsFirstBatch()
    pipeline, source, runner, failures = start(tmp_path, log, sink)
    try:
        assert sink.later_written.wait(60), "a second writer never wrote while the first batch was held"
        time.sleep(0.6)  # the pipeline thread acknowledges at least every 0.2 s while it waits
        assert source.acks == [], "positions moved past a batch that is not in the sink yet"
    finally:
        sink.release.set()
        runner.join(60)
    assert not runner.is_alive() and not failures
    assert sorted(sink.seqs) == list(range(LINES))
    offsets = [offset for ack in source.acks for offset in ack.values()]
    assert len(offsets) >= LINES // BATCH // 2, "too few positions acknowledged for the test to mean anything"
    assert offsets == sorted(offsets) and offsets[-1] == log.stat().st_size
    assert pipeline.stats.written == LINES and pipeline.stats.batches >= LINES // BATCH


class FailsSecondBatch(HoldsFirstBatch):
    """The second batch is refused for good while the first is still held."""

    name = "fails-second"

    def write(self, batch: Batch) -> None:
        with self._lock:
            self._seen += 1
            number = self._seen
        if number == 1:
            assert self.release.wait(60), "the test never released the first batch"
            return
        if number == 2:
            self.later_written.set()
            raise ValueError("refused for good")


def test_a_writer_failing_ends_the_run_and_no_position_passes_the_failed_batch(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    sink = FailsSecondBatch()
    _, source, runner, failures = start(tmp_path, log, sink)
    assert sink.later_written.wait(60)
    sink.release.set()
    runner.join(60)
    assert not runner.is_alive(), "the run did not end after a writer failed"
    assert len(failures) == 1 and isinstance(failures[0], ValueError)
    offsets = [offset for ack in source.acks for offset in ack.values()]
    first_batch_end = sum(len(line(n)) for n in range(BATCH))
    assert all(offset <= first_batch_end for offset in offsets), "a position passed the batch that failed"


@pytest.mark.parametrize("concurrency", [1, 3])
def test_every_line_is_written_once_whatever_the_number_of_writers(tmp_path: Path, concurrency: int) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"".join(line(n) for n in range(LINES)))
    source = file_source(tmp_path, once=True, read_buffer_bytes=READ)
    settings = load_settings(None, data_dir=tmp_path / "data")
    sink = HoldsFirstBatch()
    sink.concurrency = concurrency
    sink.release.set()
    batcher = Batcher(BatchConfig(max_events=7, max_age=60.0), serialize)
    stats = Pipeline(source, build_processors(settings), batcher, sink).run(once=True)
    assert sorted(sink.seqs) == list(range(LINES)) and stats.written == LINES
    assert source.registry.files and all(s.offset == log.stat().st_size for s in source.registry.files.values())
