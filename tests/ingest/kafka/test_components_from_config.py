"""The config, not the command verb, chooses the components: `[sink] type` steers `index`, and the Kafka
sink counts the lines it cuts in the shared family."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from core import metrics
from core.outcomes import TRUNCATED
from logferry.assemble import assemble
from logferry.config import load_settings
from tests.ingest.helpers import stored_docs
from tests.ingest.kafka.conftest import run, write_logs

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_index_without_to_writes_where_the_config_says(
    tmp_path: Path, kafka_bootstrap: str, scaleout_topic: Callable[[int], str], kafka_group_id: str
) -> None:
    topic = scaleout_topic(2)
    (log,) = write_logs(tmp_path / "logs", 40, 1)
    kafka = ["--kafka", kafka_bootstrap, "--topic", topic]
    run("ship", str(log), "--to", "kafka", *kafka, "--once", data_dir=tmp_path / "shipper")
    config = tmp_path / "indexer.toml"
    config.write_text('[sink]\ntype = "duckdb"\n')
    stderr = run(
        "index",
        "--config",
        str(config),
        *kafka,
        "--group",
        kafka_group_id,
        "--exit-when-idle",
        "3",
        data_dir=tmp_path / "indexer",
    )
    assert "40 events written" in stderr
    assert len(stored_docs(tmp_path / "indexer")) == 40


def test_the_kafka_sink_counts_each_line_it_cuts(
    tmp_path: Path, kafka_bootstrap: str, scaleout_topic: Callable[[int], str]
) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b'{"msg":"short"}\n{"msg":"' + b"x" * 3000 + b'"}\n')
    settings = load_settings(
        None,
        data_dir=tmp_path / "data",
        input={"paths": [str(log)]},
        sink={"type": "kafka"},
        kafka={"bootstrap_servers": [kafka_bootstrap], "topic": scaleout_topic(1), "max_message_bytes": 1024},
    )
    labels = {"component": "kafka", "outcome": TRUNCATED, "reason": "max_message_bytes"}
    before = metrics.REGISTRY.get_sample_value("logferry_component_events_total", labels) or 0.0
    pipeline = assemble(settings, once=True)
    assert pipeline.run(once=True).written == 2
    assert pipeline.sink.counts.get(TRUNCATED, "max_message_bytes") == 1
    assert (metrics.REGISTRY.get_sample_value("logferry_component_events_total", labels) or 0.0) - before == 1
