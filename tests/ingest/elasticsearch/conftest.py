"""Helpers of the Elasticsearch sink tests: real batches from the real processor chain, a private node.

The shared fixtures (``es_url``, ``es_client``, ``index_prefix``) come from tests/conftest.py. The
outage test stops and starts its own node on another port (``private_es``), so that stopping it for
30 s does not fail the other suites that use the shared node at the same time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import pytest
from elasticsearch import Elasticsearch

from core.keys import RAW, SOURCE_ID
from ingest.batch import Batch, Batcher
from ingest.config import BatchConfig
from logferry.assemble import build_processors
from logferry.config import load_settings
from tests.outage import PrivateServer, private_server


def make_batch(lines: Sequence[bytes | dict[str, Any]], source_id: str = "1:2:test") -> Batch:
    """One batch of the given lines after the default processor chain, as the pipeline would cut it."""
    chain = build_processors(load_settings(None))
    batcher = Batcher(BatchConfig(max_events=1_000_000, max_bytes=1 << 30, max_age=3600))
    offset = 0
    for line in lines:
        raw = orjson.dumps(line) if isinstance(line, dict) else line
        event: dict[str, Any] | None = {
            RAW: raw,
            SOURCE_ID: source_id,
            "log.file.path": "/var/log/app.log",
            "log.offset": offset,
        }
        offset += len(raw) + 1
        for _, processor in chain:
            assert event is not None
            event = processor(event)
        assert event is not None, f"the default chain dropped {raw!r}"
        batcher.feed(event)
    batch = batcher.flush()
    assert batch is not None
    return batch


def all_docs(client: Elasticsearch, index: str) -> list[dict[str, Any]]:
    """Every hit (``_id`` and ``_source``) of an index pattern, after a refresh."""
    from elasticsearch.helpers import scan

    client.indices.refresh(index=index, allow_no_indices=True, ignore_unavailable=True)
    return list(scan(client, index=index, query={"query": {"match_all": {}}}, size=2000))


@pytest.fixture(scope="module")
def private_es() -> Iterator[PrivateServer]:
    if os.environ.get("ELASTICSEARCH_URL"):
        pytest.skip("ELASTICSEARCH_URL points at an external server; the outage test needs a node it can stop")
    port = int(os.environ.get("LOGFERRY_TEST_OUTAGE_ES_PORT", "9250"))
    heap = os.environ.get("LOGFERRY_TEST_OUTAGE_ES_HEAP", "512m")
    settings = {"LOGFERRY_ES_PORT": str(port), "LOGFERRY_ES_TRANSPORT_PORT": str(port + 100), "LOGFERRY_ES_HEAP": heap}
    yield from private_server("es", port, settings)
