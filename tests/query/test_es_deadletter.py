"""Issue 9: over more than 60 days the Elasticsearch backend searches every daily index, and must not
count the documents of ``<prefix>-deadletter`` (which ``<prefix>-*`` also matches) as events."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import orjson
import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from core.keys import RAW, SOURCE_ID
from core.outcomes import DEAD_LETTERED
from ingest.batch import Batch, Batcher
from ingest.config import BatchConfig
from logferry.assemble import build_processors
from logferry.components import ElasticsearchSinkConfig, query_app
from logferry.config import load_settings
from query.es_backend import MAX_LISTED_INDICES, ElasticsearchBackend

pytestmark = [pytest.mark.integration, pytest.mark.elasticsearch]

GOOD = 12


def batch_of(lines: list[dict[str, Any]]) -> Batch:
    """The lines through the default processor chain, in one batch, as the pipeline cuts it."""
    chain = build_processors(load_settings(None))
    batcher = Batcher(BatchConfig(max_events=1000, max_bytes=1 << 24, max_age=3600))
    offset = 0
    for line in lines:
        raw = orjson.dumps(line)
        event: dict[str, Any] | None = {RAW: raw, SOURCE_ID: "1:2:dl", "log.file.path": "/a.log", "log.offset": offset}
        offset += len(raw) + 1
        for _, processor in chain:
            assert event is not None
            event = processor(event)
        assert event is not None
        batcher.feed(event)
    batch = batcher.flush()
    assert batch is not None
    return batch


@pytest.fixture
def api_with_a_dead_letter(es_url: str, es_client: Elasticsearch, index_prefix: str, tmp_path: Path) -> TestClient:
    """GOOD events of the last days and one the real sink dead-letters into ``<prefix>-deadletter``."""
    now = dt.datetime.now(dt.UTC)
    lines = [
        {
            "timestamp": (now - dt.timedelta(hours=5 * i)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "level": "error",
            "message": f"m{i}",
            "userId": f"u{i % 3}",
        }
        for i in range(GOOD)
    ]
    lines.append({**lines[0], "message": "refused", "ip": "not-an-ip"})
    settings = load_settings(
        None, data_dir=tmp_path / "data", elasticsearch={"hosts": [es_url], "index_prefix": index_prefix}
    )
    sink = ElasticsearchSinkConfig().build(settings, threading.Event())
    try:
        sink.write(batch_of(lines))
    finally:
        sink.close()
    assert sink.counts.get(DEAD_LETTERED, "document_parsing_exception") == 1
    es_client.indices.refresh(index=f"{index_prefix}-*")
    dead = es_client.count(index=f"{index_prefix}-deadletter")["count"]
    assert dead == 1, "the fixture must leave a dead letter to be (not) counted"
    return TestClient(query_app(settings, ElasticsearchBackend(es_client, index_prefix)))


@pytest.mark.parametrize("days", [MAX_LISTED_INDICES + 5, 400, 700_000])
def test_a_range_over_many_days_counts_no_dead_letter(api_with_a_dead_letter: TestClient, days: int) -> None:
    params = {"from": f"now-{days}d", "to": "now+1h"}
    events = api_with_a_dead_letter.get("/api/v1/events", params={**params, "size": 100}).json()
    assert events["total"] == GOOD
    assert all("sink" not in e for e in events["events"])
    top = api_with_a_dead_letter.get("/api/v1/stats/top", params={**params, "field": "user", "errors": "true"})
    assert top.json()["total"] == GOOD
    latency = api_with_a_dead_letter.get("/api/v1/stats/latency", params=params)
    assert latency.status_code == 200


def test_a_short_range_counts_no_dead_letter_either(api_with_a_dead_letter: TestClient) -> None:
    events = api_with_a_dead_letter.get("/api/v1/events", params={"from": "now-3d", "to": "now+1h"}).json()
    assert events["total"] == GOOD
