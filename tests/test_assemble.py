"""Components from config: ``[source]``/``[sink]`` by ``type``, one settings rule for every command, one
family of counters for what components do to events."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from core import metrics
from core.errors import ConfigError, SinkUnavailable
from core.outcomes import DEAD_LETTERED, MISSING_TIMESTAMP, RETRIED, TRUNCATED, EventCounts
from ingest.batch import Batch, Batcher
from ingest.document import serialize
from ingest.duckdb_sink import DuckDBSink
from ingest.file_source import FileSource, StdinSource
from ingest.pipeline import Pipeline, Sink
from logferry.assemble import RESTORE_HOST, assemble, processors_for, raw_line, serializer_for
from logferry.cli import main
from logferry.config import load_settings
from tests.ingest.helpers import stored_docs


def a_log(tmp_path: Path, lines: list[bytes]) -> Path:
    log = tmp_path / "app.log"
    log.write_bytes(b"".join(line + b"\n" for line in lines))
    return log


def family(component: str, outcome: str, reason: str) -> float:
    labels = {"component": component, "outcome": outcome, "reason": reason}
    return metrics.REGISTRY.get_sample_value("logferry_component_events_total", labels) or 0.0


def test_source_and_sink_sections_choose_the_components_by_type(tmp_path: Path) -> None:
    config = tmp_path / "logferry.toml"
    config.write_text('[source]\ntype = "kafka"\n\n[sink]\ntype = "elasticsearch"\n')
    settings = load_settings(config)
    assert (settings.source.type, settings.sink.type) == ("kafka", "elasticsearch")
    assert (load_settings(None).source.type, load_settings(None).sink.type) == ("file", "duckdb")


def test_a_component_type_is_overridden_by_env_and_an_unknown_one_names_the_known(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOGFERRY_SINK__TYPE", "kafka")
    assert load_settings(None).sink.type == "kafka"
    monkeypatch.setenv("LOGFERRY_SINK__TYPE", "s3")
    with pytest.raises(ConfigError, match="'duckdb', 'elasticsearch', 'kafka'"):
        load_settings(None)


def test_a_commands_defaults_sit_below_the_file_env_and_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index_defaults = {"source": {"type": "kafka"}, "sink": {"type": "elasticsearch"}}
    assert load_settings(None, defaults=index_defaults).sink.type == "elasticsearch"
    config = tmp_path / "logferry.toml"
    config.write_text('[sink]\ntype = "duckdb"\n')
    from_file = load_settings(config, defaults=index_defaults)
    assert (from_file.source.type, from_file.sink.type) == ("kafka", "duckdb")
    monkeypatch.setenv("LOGFERRY_SINK__TYPE", "kafka")
    assert load_settings(config, defaults=index_defaults).sink.type == "kafka"
    assert load_settings(config, defaults=index_defaults, sink={"type": "elasticsearch"}).sink.type == "elasticsearch"


def test_a_flag_not_given_overrides_nothing_at_any_depth(tmp_path: Path) -> None:
    config = tmp_path / "logferry.toml"
    config.write_text('[kafka]\ntopic = "from-file"\ngroup = "g"\n')
    settings = load_settings(config, kafka={"topic": None, "group": "flag"}, elasticsearch={"hosts": None})
    assert (settings.kafka.topic, settings.kafka.group) == ("from-file", "flag")
    assert settings.elasticsearch.hosts == ["http://127.0.0.1:9200"]


def test_the_chain_is_shaped_by_the_ends() -> None:
    configured = [name for name, _ in processors_for(load_settings(None))]
    assert configured == load_settings(None).pipeline
    assert processors_for(load_settings(None, sink={"type": "kafka"})) == []
    assert serializer_for(load_settings(None, sink={"type": "kafka"})) is raw_line
    assert serializer_for(load_settings(None)) is serialize
    indexer = [name for name, _ in processors_for(load_settings(None, source={"type": "kafka"}))]
    assert indexer.index(RESTORE_HOST) == indexer.index("add_metadata") - 1
    without_metadata = load_settings(None, source={"type": "kafka"}, pipeline=["decode_json", "assign_id"])
    assert [name for name, _ in processors_for(without_metadata)] == [RESTORE_HOST, "decode_json", "assign_id"]


@pytest.mark.integration
def test_assemble_builds_the_configured_file_source_and_duckdb_sink(tmp_path: Path) -> None:
    log = a_log(tmp_path, [b'{"@timestamp":"2026-11-20T10:00:00Z","msg":"one"}'])
    settings = load_settings(None, data_dir=tmp_path / "data", input={"paths": [str(log)]})
    pipeline = assemble(settings, once=True)
    assert isinstance(pipeline.source, FileSource) and isinstance(pipeline.sink, DuckDBSink)
    assert pipeline.run(once=True).written == 1
    assert [d["message"] for d in stored_docs(settings.data_dir)] == ["one"]


@pytest.mark.integration
def test_a_source_mistake_is_reported_before_the_sink_takes_the_store(tmp_path: Path) -> None:
    settings = load_settings(None, data_dir=tmp_path / "data")
    with pytest.raises(ConfigError, match="no inputs"):
        assemble(settings, once=True)
    assert not (tmp_path / "data").exists(), "nothing is created for a run that cannot start"


@pytest.mark.parametrize(
    "command", [["ingest", "app.log"], ["run", "--no-serve"], ["search", "x"], ["stats", "errors"], ["config", "show"]]
)
def test_every_command_refuses_a_wrong_option_alike(tmp_path: Path, command: list[str]) -> None:
    """One loader: a bad value from env (or file, or flag) is a usage error naming the option."""
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), *command], env={"LOGFERRY_BATCH__MAX_EVENTS": "0"})
    assert result.exit_code == 2, result.output
    assert "LOGFERRY_BATCH__MAX_EVENTS" in result.output


@pytest.mark.integration
def test_the_summary_counts_dead_letters_from_the_sinks_counters(tmp_path: Path) -> None:
    log = a_log(tmp_path, [b'{"@timestamp":"2026-11-20T10:00:00Z","msg":"ok"}', b'{"msg":"no time"}'])
    config = tmp_path / "logferry.toml"
    config.write_text('pipeline = ["decode_json", "parse_message", "assign_id"]\n')
    result = CliRunner().invoke(main, ["--config", str(config), "--data-dir", str(tmp_path / "d"), "ingest", str(log)])
    assert result.exit_code == 0, result.output
    assert "2 events written, 1 dead-lettered" in result.output


class FailsOnce:
    """A real DuckDB sink behind a link that drops the first write (a transient outage)."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.name = "flaky_duckdb"
        self.counts = EventCounts()
        self.failed = False

    def write(self, batch: Batch) -> None:
        if not self.failed:
            self.failed = True
            raise SinkUnavailable("link down")
        self.sink.write(batch)

    def close(self) -> None:
        self.sink.close()


@pytest.mark.integration
def test_a_retried_batch_counts_its_events_with_the_reason(tmp_path: Path) -> None:
    log = a_log(tmp_path, [b'{"@timestamp":"2026-11-20T10:00:00Z","msg":"%d"}' % i for i in range(3)])
    settings = load_settings(None, data_dir=tmp_path / "data", input={"paths": [str(log)]})
    before = family("flaky_duckdb", RETRIED, "SinkUnavailable")
    sink = FailsOnce(settings.sink.build(settings, threading.Event()))
    source = settings.source.build(settings, once=True)
    pipeline = Pipeline(source, processors_for(settings), Batcher(settings.batch), sink)
    assert pipeline.run(once=True).written == 3
    assert family("flaky_duckdb", RETRIED, "SinkUnavailable") - before == 3


@pytest.mark.integration
def test_dead_letters_are_exported_once_under_the_shared_reason_name(tmp_path: Path) -> None:
    lines = [b'{"msg":"no time %d"}' % i for i in range(2)]
    settings = load_settings(
        None,
        data_dir=tmp_path / "data",
        input={"paths": [str(a_log(tmp_path, lines))]},
        pipeline=["decode_json", "parse_message", "assign_id"],
        batch={"max_events": 1},
    )
    before = family("duckdb", DEAD_LETTERED, MISSING_TIMESTAMP)
    pipeline = assemble(settings, once=True)
    pipeline.run(once=True)
    assert pipeline.sink.counts.get(DEAD_LETTERED, MISSING_TIMESTAMP) == 2
    assert family("duckdb", DEAD_LETTERED, MISSING_TIMESTAMP) - before == 2


@pytest.mark.integration
def test_the_file_source_counts_each_line_it_cuts(tmp_path: Path) -> None:
    log = a_log(tmp_path, [b'{"msg":"short"}', b'{"msg":"' + b"x" * 200 + b'"}', b"y" * 100])
    settings = load_settings(None, data_dir=tmp_path / "data", input={"paths": [str(log)], "max_line_bytes": 64})
    before = family("FileSource", TRUNCATED, "max_line_bytes")
    pipeline = assemble(settings, once=True)
    assert pipeline.run(once=True).written == 3
    assert pipeline.source.counts.get(TRUNCATED, "max_line_bytes") == 2
    assert family("FileSource", TRUNCATED, "max_line_bytes") - before == 2


def test_the_stdin_source_counts_each_line_it_cuts() -> None:
    source = StdinSource(io.BytesIO(b"short\n" + b"z" * 100 + b"\n" + b"w" * 100), 64)
    events = [event for chunk in source.poll() for event in chunk.events]
    assert len(events) == 3
    assert source.counts.get(TRUNCATED, "max_line_bytes") == 2
