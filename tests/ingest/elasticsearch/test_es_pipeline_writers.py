"""The Elasticsearch sink is written by ``workers`` writer threads at once (two by default): every line lands
once or is dead-lettered once, and the registry ends at the end of the file."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from conftest import all_docs
from elasticsearch import Elasticsearch

from core.outcomes import DEAD_LETTERED
from ingest.elasticsearch_sink import ElasticsearchSink
from logferry.assemble import assemble
from logferry.config import load_settings

pytestmark = [pytest.mark.integration]

LINES = 3000
REFUSED_EVERY = 97


def app_line(seq: int) -> bytes:
    """A request line of 2026-11-20; every ``REFUSED_EVERY``-th has an address the ``ip`` mapping refuses."""
    line = {"timestamp": f"2026-11-20T10:{seq // 60 % 60:02d}:{seq % 60:02d}.000Z", "message": "hello", "seq": seq}
    if seq % REFUSED_EVERY == 0:
        line["ip"] = "not-an-ip"
    return orjson.dumps(line) + b"\n"


@pytest.mark.parametrize("workers", [None, 1, 3])
def test_writers_index_every_line_once_and_dead_letter_the_refused_ones(
    es_client: Elasticsearch, es_url: str, index_prefix: str, tmp_path: Path, workers: int | None
) -> None:
    """``workers`` unset is the default, two writers."""
    log = tmp_path / "app.log"
    log.write_bytes(b"".join(app_line(seq) for seq in range(LINES)))
    settings = load_settings(
        None,
        data_dir=tmp_path / "data",
        input={"paths": [str(log)], "read_buffer_bytes": 16384},
        batch={"max_events": 50},
        sink={"type": "elasticsearch"},
        elasticsearch={
            "hosts": [es_url],
            "index_prefix": index_prefix,
            "deadletter": "file",
            **({} if workers is None else {"workers": workers}),
        },
    )
    pipeline = assemble(settings, once=True)
    assert isinstance(pipeline.sink, ElasticsearchSink) and pipeline.sink.concurrency == (workers or 2)
    stats = pipeline.run(once=True)

    refused = {seq for seq in range(LINES) if seq % REFUSED_EVERY == 0}
    assert stats.written == LINES and pipeline.sink.counts.total(DEAD_LETTERED) == len(refused)
    indexed = [int(hit["_source"]["seq"]) for hit in all_docs(es_client, f"{index_prefix}-20*")]
    assert sorted(indexed) == sorted(set(range(LINES)) - refused)
    records = [orjson.loads(line) for line in (tmp_path / "data" / "deadletter.ndjson").read_bytes().splitlines()]
    assert sorted(r["event"]["seq"] for r in records) == sorted(refused)
    registry = orjson.loads((tmp_path / "data" / "registry.json").read_bytes())
    offsets = [state["offset"] for state in registry["files"].values()]
    assert offsets == [log.stat().st_size]
