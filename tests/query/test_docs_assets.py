"""/docs works offline: the page names only URLs of this server, and each of them answers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from logferry.components import query_app
from logferry.config import load_settings

pytestmark = pytest.mark.integration

ABSOLUTE_URL = re.compile(r"""(?:https?:)?//[^\s'"<>)]+""")
LOCAL_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|\burl\s*:\s*["']([^"']+)["']""")


def docs_client(data_dir: Path, api_key: str | None) -> TestClient:
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = load_settings(None, data_dir=data_dir, api={"api_key": api_key})
    return TestClient(query_app(settings))


@pytest.mark.parametrize("api_key", [None, "s3cret"])
def test_docs_page_uses_only_local_assets_that_answer(tmp_path: Path, api_key: str | None) -> None:
    client = docs_client(tmp_path / "data", api_key)
    headers = {"X-API-Key": api_key} if api_key else {}
    page = client.get("/docs", headers=headers)
    assert page.status_code == 200
    html = page.text
    assert ABSOLUTE_URL.findall(html) == [], "the docs page loads something from another host"
    references = [a or b for a, b in LOCAL_REFERENCE.findall(html)]
    assert any(ref.endswith(".js") for ref in references), references
    assert any(ref.endswith(".css") for ref in references), references
    assert "/openapi.json" in references
    for ref in references:
        assert ref.startswith("/"), ref
        answer = client.get(ref, headers=headers)
        assert answer.status_code == 200, f"{ref} answered {answer.status_code}"
        assert answer.content, ref
    if api_key:
        assert client.get(references[0]).status_code == 401, "the key guards the assets like the rest"


def test_swagger_bundle_is_the_real_javascript(tmp_path: Path) -> None:
    client = docs_client(tmp_path / "data", None)
    html = client.get("/docs").text
    script = next(ref for ref in LOCAL_REFERENCE.findall(html) if ref[0].endswith("swagger-ui-bundle.js"))[0]
    body = client.get(script)
    assert "javascript" in body.headers["content-type"]
    assert "SwaggerUIBundle" in body.text
