"""The alert corpus (tests/alerts/alert_corpus.py) stored in a real DuckDB day store and real Elasticsearch."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from query.backend import Backend, DuckDBBackend, ElasticsearchBackend
from store.day_store import DayStore
from tests.alerts.alert_corpus import Event, generate, stored_documents
from tests.query.query_corpus import load_duckdb, load_elasticsearch


@pytest.fixture(scope="session")
def alert_events() -> list[Event]:
    return generate()


@pytest.fixture(scope="session")
def alert_docs(alert_events: list[Event]) -> list[bytes]:
    return stored_documents(alert_events)


@pytest.fixture(scope="session")
def alert_data_dir(tmp_path_factory: pytest.TempPathFactory, alert_docs: list[bytes]) -> Path:
    data_dir = tmp_path_factory.mktemp("alert-data")
    load_duckdb(DayStore(data_dir / "events"), alert_docs)
    return data_dir


@pytest.fixture(scope="session")
def alert_es(es_client: Any, alert_docs: list[bytes]) -> Iterator[tuple[Any, str]]:
    prefix = f"t-alerts-{uuid.uuid4().hex[:10]}"
    load_elasticsearch(es_client, prefix, alert_docs)
    yield es_client, prefix
    es_client.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True)
    es_client.indices.delete_index_template(name=prefix, ignore=[404])


@pytest.fixture(scope="session")
def duckdb_backend(alert_data_dir: Path) -> Backend:
    return DuckDBBackend(DayStore(alert_data_dir / "events"))


@pytest.fixture(scope="session")
def es_backend(alert_es: tuple[Any, str]) -> Backend:
    client, prefix = alert_es
    return ElasticsearchBackend(client, prefix)
