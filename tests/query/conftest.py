"""Fixtures of the query tests: the generated corpus loaded into a real DuckDB day store and real ES."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from logferry.components import query_app
from logferry.config import Settings, load_settings
from query.backend import Backend, DuckDBBackend, ElasticsearchBackend
from store.day_store import DayStore
from tests.query.query_corpus import Truth, documents, es_client_or_skip, generate, load_duckdb, load_elasticsearch


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


@pytest.fixture(scope="session")
def es_corpus(request: pytest.FixtureRequest, corpus_docs: list[bytes]) -> Iterator[tuple[Any, str]]:
    client = es_client_or_skip(request)
    prefix = f"t-query-{uuid.uuid4().hex[:10]}"
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
    return TestClient(query_app(corpus_settings, backend))


@pytest.fixture(scope="module")
def served(corpus_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # A copy: this test process keeps the corpus files open, and DuckDB lets one process hold a file.
    data_dir = tmp_path_factory.mktemp("served")
    shutil.copytree(corpus_data_dir / "events", data_dir / "events")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "logferry", "--data-dir", str(data_dir), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "serve exited"
        assert time.monotonic() < deadline, "serve did not answer /healthz within 60 s"
        time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=30)
