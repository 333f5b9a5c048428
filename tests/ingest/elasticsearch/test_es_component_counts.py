"""The Elasticsearch sink dead-letters a document without a day under the reason name DuckDB uses, and
the pipeline exports it once in the shared family."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import metrics
from core.outcomes import DEAD_LETTERED, MISSING_TIMESTAMP
from logferry.assemble import assemble
from logferry.config import load_settings

pytestmark = [pytest.mark.integration]


def test_a_document_without_a_day_is_dead_lettered_as_missing_timestamp(
    tmp_path: Path, es_url: str, index_prefix: str
) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b'{"@timestamp":"2026-11-20T10:00:00Z","msg":"ok"}\n{"msg":"no time"}\n')
    settings = load_settings(
        None,
        data_dir=tmp_path / "data",
        input={"paths": [str(log)]},
        pipeline=["decode_json", "parse_message", "assign_id"],
        sink={"type": "elasticsearch"},
        elasticsearch={"hosts": [es_url], "index_prefix": index_prefix},
    )
    labels = {"component": "elasticsearch", "outcome": DEAD_LETTERED, "reason": MISSING_TIMESTAMP}
    before = metrics.REGISTRY.get_sample_value("logferry_component_events_total", labels) or 0.0
    pipeline = assemble(settings, once=True)
    assert pipeline.run(once=True).written == 2
    assert pipeline.sink.counts.get(DEAD_LETTERED, MISSING_TIMESTAMP) == 1
    assert (metrics.REGISTRY.get_sample_value("logferry_component_events_total", labels) or 0.0) - before == 1
