"""The pipeline counts what it does, and a document DuckDB cannot store is dead-lettered, not lost."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from core import metrics
from core.outcomes import DEAD_LETTERED, MISSING_TIMESTAMP, REDACTED, EventCounts
from ingest.batch import Batcher
from ingest.pipeline import Pipeline
from logferry.assemble import assemble, processors_for
from logferry.config import load_settings
from tests.ingest.helpers import stored_docs

pytestmark = pytest.mark.integration

COMPONENT_EVENTS = "logferry_component_events_total"


def value(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def test_lines_events_tags_redactions_and_batches_are_counted(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(
        b'{"level":"error","msg":"boom","password":"x"}\n'
        b'{"level":"info","method":"GET","url":"/a","status":200,"responseTime":5000}\n'
        b"not json\n"
    )
    settings = load_settings(None, data_dir=tmp_path / "data", input={"paths": [str(log)]})
    before = {
        "lines": value("logferry_lines_read_total", source="FileSource"),
        "written": value("logferry_events_written_total", sink="duckdb"),
        "error": value("logferry_events_tagged_total", tag="error"),
        "slow": value("logferry_events_tagged_total", tag="slow_request"),
        "parse": value("logferry_events_tagged_total", tag="_jsonparsefailure"),
        "redactions": value(COMPONENT_EVENTS, component="redact", outcome=REDACTED, reason="secret"),
        "batches": value("logferry_batch_write_seconds_count", sink="duckdb"),
    }
    stats = assemble(settings, once=True).run(once=True)
    assert stats.written == 3
    assert value("logferry_lines_read_total", source="FileSource") - before["lines"] == 3
    assert value("logferry_events_written_total", sink="duckdb") - before["written"] == 3
    assert value("logferry_events_tagged_total", tag="error") - before["error"] == 1
    assert value("logferry_events_tagged_total", tag="slow_request") - before["slow"] == 1
    assert value("logferry_events_tagged_total", tag="_jsonparsefailure") - before["parse"] == 1
    assert value(COMPONENT_EVENTS, component="redact", outcome=REDACTED, reason="secret") - before["redactions"] == 1
    assert value("logferry_batch_write_seconds_count", sink="duckdb") - before["batches"] >= 1


def test_a_document_without_a_usable_timestamp_is_dead_lettered_with_its_reason(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b'{"@timestamp":"2026-11-20T10:00:00.000Z","msg":"ok"}\n{"@timestamp":"yesterday","msg":"bad"}\n')
    without_time_parsing = ["decode_json", "parse_message", "assign_id"]
    settings = load_settings(
        None, data_dir=tmp_path / "data", input={"paths": [str(log)]}, pipeline=without_time_parsing
    )
    before = value(COMPONENT_EVENTS, component="duckdb", outcome=DEAD_LETTERED, reason=MISSING_TIMESTAMP)
    pipeline = assemble(settings, once=True)
    stats = pipeline.run(once=True)
    assert stats.lines == 2 and pipeline.sink.counts.get(DEAD_LETTERED, MISSING_TIMESTAMP) == 1
    assert [d["message"] for d in stored_docs(settings.data_dir)] == ["ok"]
    records = [orjson.loads(line) for line in (settings.data_dir / "deadletter.ndjson").read_bytes().splitlines()]
    assert len(records) == 1
    assert records[0]["sink"] == "duckdb" and "@timestamp" in records[0]["reason"]
    assert records[0]["event"]["message"] == "bad"
    assert value(COMPONENT_EVENTS, component="duckdb", outcome=DEAD_LETTERED, reason=MISSING_TIMESTAMP) - before == 1
    again = assemble(settings, once=True).run(once=True)
    assert again.lines == 0


class RefusingSink:
    """A sink whose server refuses for good (auth, say): a non-retriable error."""

    name = "refusing"

    def __init__(self) -> None:
        self.counts = EventCounts()

    def write(self, batch: object) -> None:
        from core.errors import SinkRejected

        raise SinkRejected("401 unauthorized")

    def close(self) -> None:
        return None


def test_a_sink_that_refuses_for_good_stops_the_run_and_moves_no_offset(tmp_path: Path) -> None:
    from core.errors import SinkRejected

    log = tmp_path / "a.log"
    log.write_bytes(b'{"msg":"a"}\n{"msg":"b"}\n')
    settings = load_settings(None, data_dir=tmp_path / "data", input={"paths": [str(log)]})
    with pytest.raises(SinkRejected, match="401"):
        source = settings.source.build(settings, once=True)
        Pipeline(source, processors_for(settings), Batcher(settings.batch), RefusingSink()).run(once=True)
    registry = (
        orjson.loads((settings.data_dir / "registry.json").read_bytes())
        if (settings.data_dir / "registry.json").exists()
        else {"files": {}}
    )
    assert all(state["offset"] == 0 for state in registry["files"].values())
