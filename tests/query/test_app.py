"""The query API is built from what it serves ([api], a backend, the endpoint templater), not from Settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import logferry
from query.app import create_app
from query.backend import DuckDBBackend
from query.config import ApiConfig
from store.day_store import DayStore

pytestmark = pytest.mark.integration


def test_the_api_states_the_package_version_and_serves_its_backend(tmp_path: Path) -> None:
    """The version comes from the installed distribution; it must be the one ``logferry --version`` prints."""
    app = create_app(ApiConfig(), DuckDBBackend(DayStore(tmp_path / "events")), templater=lambda path: None)
    client = TestClient(app)
    assert client.get("/openapi.json").json()["info"]["version"] == logferry.__version__
    page = client.get("/api/v1/events")
    assert page.status_code == 200
    assert page.json()["total"] == 0
