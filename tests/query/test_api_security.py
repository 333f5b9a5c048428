"""The API key is a Security dependency: OpenAPI declares it on every guarded route (so Swagger UI's
"Authorize" sends it), and a missing or wrong key is refused before anything else is looked at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from logferry.components import query_app
from logferry.config import load_settings

pytestmark = pytest.mark.integration
KEY = "s3cret-key"
GUARDED = {
    "/api/v1/events",
    "/api/v1/stats/errors-over-time",
    "/api/v1/stats/top",
    "/api/v1/stats/latency",
    "/api/v1/histogram",
    "/api/v1/fields",
    "/api/v1/events/{event_id}/context",
    "/api/v1/tail",
    "/api/v1/export",
    "/api/v1/saved-searches",
    "/api/v1/saved-searches/{name}",
    "/api/v1/errors/groups",
    "/api/v1/errors/groups/{key}/state",
    "/api/v1/patterns",
    "/readyz",
    "/metrics",
}
OPEN = {"/healthz"}


def client(data_dir: Path, api_key: str | None) -> TestClient:
    data_dir.mkdir(parents=True, exist_ok=True)
    return TestClient(query_app(load_settings(None, data_dir=data_dir, api={"api_key": api_key})))


def operations(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {path: op for path, methods in document["paths"].items() for op in methods.values()}


def test_openapi_declares_the_key_header_and_bearer_on_every_guarded_route(tmp_path: Path) -> None:
    document = client(tmp_path, KEY).get("/openapi.json", headers={"X-API-Key": KEY}).json()

    schemes = document["components"]["securitySchemes"]
    kinds = {(s["type"], s.get("in"), s.get("name"), s.get("scheme")) for s in schemes.values()}
    assert kinds == {
        ("apiKey", "header", "X-API-Key", None),
        ("http", None, None, "bearer"),
        ("apiKey", "cookie", "logferry_session", None),  # the web page's login cookie
    }
    either_scheme = sorted([{name: []} for name in schemes], key=str)
    ops = operations(document)
    assert set(ops) == GUARDED | OPEN
    for path in GUARDED:
        assert sorted(ops[path].get("security", []), key=str) == either_scheme, path
        assert "401" in ops[path]["responses"], path
    for path in OPEN:
        assert "security" not in ops[path], path


def test_without_a_key_openapi_claims_no_security(tmp_path: Path) -> None:
    document = client(tmp_path, None).get("/openapi.json").json()

    assert "securitySchemes" not in document.get("components", {})
    assert all("security" not in op for op in operations(document).values())


def test_a_wrong_key_is_401_with_a_bearer_challenge_before_any_parameter_is_checked(tmp_path: Path) -> None:
    api = client(tmp_path, KEY)
    for headers in ({}, {"X-API-Key": "wrong"}, {"Authorization": "Bearer wrong"}):
        resp = api.get("/api/v1/events", params={"level": "loud", "size": 0}, headers=headers)
        assert resp.status_code == 401, resp.text
        assert resp.headers["www-authenticate"] == "Bearer"
        assert "API key" in resp.json()["detail"]
    right = api.get("/api/v1/events", params={"level": "loud", "size": 0}, headers={"X-API-Key": KEY})
    assert right.status_code == 422


def test_a_given_x_api_key_header_decides_even_beside_a_right_bearer(tmp_path: Path) -> None:
    api = client(tmp_path, KEY)
    resp = api.get("/metrics", headers={"X-API-Key": "wrong", "Authorization": f"Bearer {KEY}"})
    assert resp.status_code == 401


@pytest.mark.parametrize("path", ["/openapi.json", "/docs", "/docs-assets/swagger-ui-bundle.js"])
def test_the_docs_load_without_the_key_and_hold_no_data(tmp_path: Path, path: str) -> None:
    """A browser cannot send a header with the page it opens: the docs load without the key (they hold no
    data, only what the API takes); the operations "Try it out" calls keep needing it."""
    api = client(tmp_path, KEY)
    assert api.get(path).status_code == 200
    assert api.get("/api/v1/events").status_code == 401
