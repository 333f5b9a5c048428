"""Fixtures of the query tests: the generated corpus loaded into a real DuckDB day store and real ES."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from query_corpus import Truth, documents, generate, load_duckdb, load_elasticsearch

from ingest.duckdb_store import DayStore
from logferry.config import Settings, load_settings
from query.app import create_app
from query.backend import Backend, DuckDBBackend, ElasticsearchBackend


@pytest.fixture(scope="session")
def truths() -> list[Truth]:
    return generate()


@pytest.fixture(scope="session")
def corpus_docs(truths: list[Truth]) -> list[bytes]:
    return documents(truths)


@pytest.fixture(scope="session")
def corpus_data_dir(tmp_path_factory: pytest.TempPathFactory, corpus_docs: list[bytes]) -> Path:
    data_dir = tmp_path_factory.mktemp("query-data")
    load_duckdb(DayStore(data_dir / "events"), corpus_docs)
    return data_dir


@pytest.fixture(scope="session")
def corpus_settings(corpus_data_dir: Path) -> Settings:
    return load_settings(None, data_dir=corpus_data_dir)


def _es_client(request: pytest.FixtureRequest) -> Any:
    """The shared session client when tests/conftest.py provides one, else a local server."""
    try:
        return request.getfixturevalue("es_client")
    except pytest.FixtureLookupError:
        pass
    from elasticsearch import Elasticsearch

    client = Elasticsearch(os.environ.get("LOGFERRY_TEST_ES_URL", "http://127.0.0.1:9200"), request_timeout=30)
    try:
        client.cluster.health()
    except Exception as exc:
        pytest.skip(f"Elasticsearch not reachable (start it with scripts/services up): {exc}")
    return client


@pytest.fixture(scope="session")
def es_corpus(request: pytest.FixtureRequest, corpus_docs: list[bytes]) -> Iterator[tuple[Any, str]]:
    client = _es_client(request)
    try:
        prefix = f"{request.getfixturevalue('index_prefix')}-query"
    except pytest.FixtureLookupError:
        prefix = f"lfq-test-{os.getpid()}"
    load_elasticsearch(client, prefix, corpus_docs)
    yield client, prefix
    client.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True)
    client.indices.delete_index_template(name=prefix, ignore=[404])


@pytest.fixture(scope="session", params=["duckdb", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def backend(request: pytest.FixtureRequest, corpus_settings: Settings) -> Backend:
    if request.param == "duckdb":
        return DuckDBBackend(DayStore(corpus_settings.data_dir / "events"))
    client, prefix = request.getfixturevalue("es_corpus")
    return ElasticsearchBackend(client, prefix)


@pytest.fixture(scope="session")
def api(backend: Backend, corpus_settings: Settings) -> TestClient:
    return TestClient(create_app(corpus_settings, backend))
