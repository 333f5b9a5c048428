"""Real shipper, real Kafka, real Elasticsearch: the indexer stores the Python chain's documents, compiled.

Generated application lines and odd ones (a host of their own, not UTF-8, a cut line, an empty one)
are shipped to Kafka by ``logferry ship``; the indexer's pipeline (``logferry.assemble``) indexes the
topic into Elasticsearch. Each stored document must be what the indexer's Python chain makes of the
same record (read back from the topic by an independent consumer), processing times aside, and most
lines must have gone through the compiled chain.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka import Consumer
from elasticsearch import Elasticsearch

from ingest.document import serialize
from ingest.kafka_wire import event_from_record
from ingest.native_chain import CompiledTransform
from logferry.assemble import assemble, processors_for
from logferry.config import load_settings
from tests.golden.chain_golden import run_chain
from tests.ingest.kafka.conftest import comparable, es_docs, run, write_logs
from tests.ingest.kafka.test_scaleout_e2e import ENV, ODD_LINES

pytestmark = [pytest.mark.e2e, pytest.mark.integration]  # kafka / elasticsearch: added per fixture

LINES = 3000


def topic_records(bootstrap: str, topic: str, want: int) -> list[Any]:
    """Every record of the topic, read by a consumer outside the indexers' group."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"reader-{uuid.uuid4().hex}", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    records: list[Any] = []
    try:
        for _ in range(600):
            records += [m for m in consumer.consume(1000, 0.5) if m.error() is None]
            if len(records) >= want:
                break
    finally:
        consumer.close()
    return records


def test_the_indexer_stores_the_python_chains_documents_through_the_compiled_chain(
    tmp_path: Path,
    kafka_bootstrap: str,
    scaleout_topic: Callable[[int], str],
    kafka_group_id: str,
    es_url: str,
    es_client: Elasticsearch,
    index_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write_logs(tmp_path / "logs", LINES, 3, extra=ODD_LINES)
    topic = scaleout_topic(2)
    shipper = ["ship", str(tmp_path / "logs" / "*.log"), "--to", "kafka", "--kafka", kafka_bootstrap]
    run(*shipper, "--topic", topic, "--once", data_dir=tmp_path / "shipper", env=ENV)

    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(
        None,
        data_dir=tmp_path / "indexer",
        source={"type": "kafka"},
        sink={"type": "elasticsearch"},
        kafka={"bootstrap_servers": [kafka_bootstrap], "topic": topic, "group": kafka_group_id, "exit_when_idle": 3},
        elasticsearch={"hosts": [es_url], "index_prefix": index_prefix},
    )
    settings.data_dir.mkdir(parents=True)
    pipeline = assemble(settings, once=True)
    stats = pipeline.run(once=True)
    total = LINES + len(ODD_LINES)
    assert stats.written == total
    transform = pipeline.transform
    assert isinstance(transform, CompiledTransform) and transform.writes_documents
    assert transform.processed >= LINES * 0.9, f"{transform.processed} of {total} lines ran compiled"

    python = processors_for(settings)
    expected: dict[str, dict[str, Any]] = {}
    for record in topic_records(kafka_bootstrap, topic, total):
        event = event_from_record(record.value(), record.headers(), topic, record.partition(), record.offset())
        document = orjson.loads(serialize(run_chain(python, event)))
        expected[document["event"]["id"]] = document
    indexed = es_docs(es_client, index_prefix)
    assert len(expected) == len(indexed) == total
    assert set(indexed) == set(expected)
    differing = [i for i in expected if comparable(indexed[i]) != comparable(expected[i])]
    assert not differing, (comparable(indexed[differing[0]]), comparable(expected[differing[0]]))
