"""100k distinct endpoints: a grouped rule measures at most ``max_groups`` of them, and the evaluator's state
stays that small; both backends pick the same ones (most events first, ties by key; shown on 10k, which
Elasticsearch indexes in seconds rather than minutes on this machine)."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest

from alerts.config import AlertsConfig
from alerts.evaluator import Evaluator, SharedState
from alerts.rules import Rule
from alerts.store import FileStateStore
from ingest.document import serialize
from query.backend import Backend, DuckDBBackend, ElasticsearchBackend
from store.day_store import DayStore
from tests.query.query_corpus import load_duckdb, load_elasticsearch

pytestmark = pytest.mark.integration

AT = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
DISTINCT = 100_000


def explosion(distinct: int) -> list[bytes]:
    """One request per endpoint, and a few endpoints with more: all in the five minutes before ``AT``."""
    docs = []
    for i in range(distinct + 30):
        n = i if i < distinct else i % 10  # endpoints /e/0 … /e/9 get three more each
        ts = AT - dt.timedelta(milliseconds=1 + i * 200_000 // distinct)
        event = {
            "@timestamp": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "message": "request",
            "endpoint": f"/e/{n}",
            "http.request.method": "GET",
            "http.response.status_code": 500,
            "service.name": "shop",
            "log.level": "error",
            "event.id": f"x{i}",
            "log.offset": i,
        }
        docs.append(serialize(event))
    return docs


RULE = Rule(
    AlertsConfig.model_validate(
        {"rules": [{"name": "PerEndpoint", "kind": "count", "group_by": "endpoint", "max_groups": 100, "window": "5m"}]}
    ).rules[0]
)


def duckdb_with(tmp: Path, docs: list[bytes]) -> Backend:
    load_duckdb(DayStore(tmp / "events"), docs)
    return DuckDBBackend(DayStore(tmp / "events"))


def test_a_grouped_rule_over_100k_endpoints_measures_max_groups_of_them(tmp_path: Path) -> None:
    duckdb_backend = duckdb_with(tmp_path, explosion(DISTINCT))
    measured = RULE.measure(duckdb_backend, AT)
    assert len(measured) == 100
    assert [measured[f"/e/{i}"].count for i in range(10)] == [4] * 10, "the busiest endpoints come first"

    store = FileStateStore(tmp_path / "alerts")
    shared = SharedState(store, store.lease("t"))
    evaluator = Evaluator([RULE], duckdb_backend, AlertsConfig(samples=0), shared)
    evaluator.step(int(AT.timestamp() * 1000))
    assert len(shared.state.alerts) == 100


@pytest.mark.elasticsearch
def test_both_backends_pick_the_same_groups(tmp_path: Path, es_client: Any) -> None:
    docs = explosion(10_000)
    duckdb_backend = duckdb_with(tmp_path, docs)
    prefix = f"t-explode-{uuid.uuid4().hex[:8]}"
    try:
        load_elasticsearch(es_client, prefix, docs)
        on_es = RULE.measure(ElasticsearchBackend(es_client, prefix), AT)
    finally:
        es_client.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True)
        es_client.indices.delete_index_template(name=prefix, ignore=[404])
    on_duckdb = RULE.measure(duckdb_backend, AT)
    assert len(on_es) == 100 and on_es == on_duckdb
    assert list(on_es) == list(on_duckdb), "ranked differently"
