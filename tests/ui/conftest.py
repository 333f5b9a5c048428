"""Servers for the page tests: uvicorn on loopback over the query corpus on each backend (``served``), the
same with an API key (``keyed``), and ``logferry run`` tailing a file into either backend (``running``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn

from logferry.components import query_app
from logferry.config import Settings, load_settings
from store.day_store import DayStore
from tests.browser import LoopbackPage
from tests.query.query_corpus import Truth, documents, generate, load_duckdb, load_elasticsearch

KEY = "k3y-for-the-page-test"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Served:
    """A running server: its URL, its settings, which backend, and an HTTP client for its JSON API."""

    url: str
    settings: Settings
    backend: str
    api: httpx.Client


@contextlib.contextmanager
def serving(settings: Settings, headers: dict[str, str] | None = None) -> Iterator[Served]:
    """``query_app(settings)`` (the API and the page) served by uvicorn on a free loopback port."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            query_app(settings), host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=url, headers=headers or {}, timeout=60) as api:
        yield Served(url, settings, settings.api.backend, api)
    server.should_exit = True
    thread.join(10)


def open_view(lp: LoopbackPage, base: str, path: str, **params: str) -> Any:
    """``lp``'s page at ``base + path`` with ``params``, loaded."""
    page = lp.page
    page.goto(f"{base}{path}?{urllib.parse.urlencode(params)}")
    page.wait_for_load_state("load")
    return page


def url_params(page: Any) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query))


def with_settings(base: Settings, **sections: dict[str, Any]) -> Settings:
    data = base.model_dump()
    for name, values in sections.items():
        data[name] = {**data[name], **values}
    return Settings.model_validate(data)


@pytest.fixture(scope="session")
def ui_truths() -> list[Truth]:
    return generate()


@pytest.fixture(scope="session")
def ui_docs(ui_truths: list[Truth]) -> list[bytes]:
    return documents(ui_truths)


@pytest.fixture(scope="session")
def ui_data_dir(tmp_path_factory: pytest.TempPathFactory, ui_docs: list[bytes]) -> Path:
    data_dir = tmp_path_factory.mktemp("ui-data")
    load_duckdb(DayStore(data_dir / "events"), ui_docs)
    return data_dir


@pytest.fixture(scope="session")
def ui_es_prefix(es_client: Any, ui_docs: list[bytes]) -> Iterator[str]:
    prefix = f"t-ui-{uuid.uuid4().hex[:10]}"
    load_elasticsearch(es_client, prefix, ui_docs)
    yield prefix
    es_client.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True)
    es_client.options(ignore_status=404).indices.delete_index_template(name=prefix)


@pytest.fixture(scope="session", params=["duckdb", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def served(request: pytest.FixtureRequest, ui_data_dir: Path) -> Iterator[Served]:
    """The page over the corpus, once per backend for the session."""
    settings = load_settings(None, data_dir=ui_data_dir)
    if request.param == "elasticsearch":
        es_url = request.getfixturevalue("es_url")
        prefix = request.getfixturevalue("ui_es_prefix")
        settings = with_settings(
            settings,
            api={"backend": "elasticsearch"},
            elasticsearch={"hosts": [es_url], "index_prefix": prefix},
        )
    with serving(settings) as s:
        yield s


@pytest.fixture
def keyed(tmp_path: Path) -> Iterator[Served]:
    """The page over a small corpus in DuckDB with ``[api] api_key`` set."""
    load_duckdb(DayStore(tmp_path / "events"), documents(generate(300)))
    settings = with_settings(load_settings(None, data_dir=tmp_path), api={"api_key": KEY})
    with serving(settings) as served:
        yield served


def log_line(message: str, level: str, **fields: Any) -> bytes:
    """A JSON log line stamped now, of service ``tailed`` unless ``fields`` say otherwise."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return orjson.dumps({"timestamp": now, "level": level, "message": message, "service": "tailed", **fields}) + b"\n"


@pytest.fixture(params=["duckdb", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path, str]]:
    """``logferry run`` tailing ``app.log`` into the backend, with its defaults (batches flushed after 1 s)."""
    log = tmp_path / "app.log"
    log.write_bytes(log_line("before the page", "error"))
    port = free_port()
    env = {
        **os.environ,
        "LOGFERRY_INPUT__PATHS": orjson.dumps([str(log)]).decode(),
        "LOGFERRY_API__PORT": str(port),
    }
    if request.param == "elasticsearch":
        env |= {
            "LOGFERRY_SINK__TYPE": "elasticsearch",
            "LOGFERRY_API__BACKEND": "elasticsearch",
            "LOGFERRY_ELASTICSEARCH__HOSTS": orjson.dumps([request.getfixturevalue("es_url")]).decode(),
            "LOGFERRY_ELASTICSEARCH__INDEX_PREFIX": request.getfixturevalue("index_prefix"),
        }
    proc = subprocess.Popen(
        [sys.executable, "-m", "logferry", "--data-dir", str(tmp_path / "data"), "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                if httpx.get(f"{url}/api/v1/events", params={"q": '"before the page"'}, timeout=5).json()["total"]:
                    break
            except (httpx.TransportError, KeyError, ValueError):
                pass
            assert time.monotonic() < deadline, "logferry run never stored the first line"
            time.sleep(0.2)
        yield url, log, request.param
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
