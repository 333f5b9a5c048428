"""/docs works offline: the page names only URLs of this server, and each of them answers, key or not.

That Swagger UI really renders the document and "Try it out" works is proven in a browser
(tests/query/test_docs_page.py); this checks what the page asks the server for.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from logferry.components import query_app
from logferry.config import load_settings
from query.docs import SERVED, SWAGGER_UI

pytestmark = pytest.mark.integration

ABSOLUTE_URL = re.compile(r"""(?:https?:)?//[^\s'"<>)]+""")
ROOT = Path(__file__).resolve().parents[2]
LOCAL_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|\burl\s*:\s*["']([^"']+)["']""")


def docs_client(data_dir: Path, api_key: str | None) -> TestClient:
    data_dir.mkdir(parents=True, exist_ok=True)
    settings = load_settings(None, data_dir=data_dir, api={"api_key": api_key})
    return TestClient(query_app(settings))


@pytest.mark.parametrize("api_key", [None, "s3cret"])
def test_docs_page_uses_only_local_assets_that_answer_without_a_key(tmp_path: Path, api_key: str | None) -> None:
    """A browser cannot send a header with the page it opens: the page, its assets and the OpenAPI
    document (no data in any of them) answer without the key; the operations keep needing it."""
    client = docs_client(tmp_path / "data", api_key)
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.text
    assert ABSOLUTE_URL.findall(html) == [], "the docs page loads something from another host"
    references = [a or b for a, b in LOCAL_REFERENCE.findall(html)]
    assert any(ref.endswith(".js") for ref in references), references
    assert any(ref.endswith(".css") for ref in references), references
    assert "/openapi.json" in references
    for ref in references:
        assert ref.startswith("/"), ref
        answer = client.get(ref)
        assert answer.status_code == 200, f"{ref} answered {answer.status_code}"
        assert answer.content, ref
    assert client.get("/api/v1/events").status_code == (401 if api_key else 200)


def test_swagger_bundle_is_the_real_javascript(tmp_path: Path) -> None:
    client = docs_client(tmp_path / "data", None)
    html = client.get("/docs").text
    script = next(ref for ref in LOCAL_REFERENCE.findall(html) if ref[0].endswith("swagger-ui-bundle.js"))[0]
    body = client.get(script)
    assert "javascript" in body.headers["content-type"]
    assert "SwaggerUIBundle" in body.text


def test_the_served_swagger_ui_is_the_vendored_one_that_reads_openapi_3_1(tmp_path: Path) -> None:
    """The 4.x bundle of the old dependency could not read FastAPI's OpenAPI 3.1 ("no valid version field")."""
    client = docs_client(tmp_path / "data", None)
    assert client.get("/openapi.json").json()["openapi"].startswith("3.1")
    record = json.loads((SWAGGER_UI / "VENDORED.json").read_text())
    assert (record["package"], int(record["version"].split(".")[0])) == ("swagger-ui-dist", 5)
    served = client.get("/docs-assets/swagger-ui-bundle.js").content
    assert hashlib.sha256(served).hexdigest() == record["files"]["swagger-ui-bundle.js"]
    assert client.get("/docs-assets/LICENSE").status_code == 200


def test_an_installed_logferry_carries_swagger_ui(tmp_path: Path) -> None:
    """Package data: a wheel built from this checkout holds the vendored files /docs serves.

    Built from a copy of the packages: setuptools builds in the source tree, and the checkout stays as it is.
    """
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("core", "store", "elastic", "logferry", "ingest", "parsers", "enrich", "query"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("logferry-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in SERVED:
        assert f"query/static/swagger-ui/{name}" in names
