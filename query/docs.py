"""The OpenAPI document and Swagger UI at /docs, from files this package installs, so the docs page works offline.

FastAPI's default /docs loads its JavaScript and CSS from a CDN and is blank without internet; here the
``swagger-ui-bundle`` package's copy of the Swagger UI dist is served under ``DOCS_ASSETS`` (FastAPI's
"self-hosting JavaScript and CSS for docs"). ReDoc has no packaged copy, so /redoc is not served.
All of it are routes, so the API key's security dependency guards them like the rest of the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.params import Depends
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from swagger_ui_bundle import swagger_ui_path

OPENAPI_URL = "/openapi.json"
DOCS_URL = "/docs"
DOCS_ASSETS = "/docs-assets"


def install_docs(app: FastAPI, dependencies: Sequence[Depends] = ()) -> None:
    """/openapi.json, /docs and its assets, all served by ``app`` behind ``dependencies``.

    Create the app with ``docs_url=None, redoc_url=None, openapi_url=None``: FastAPI's own routes for
    them take no dependencies.
    """
    assets = {p.name: p for p in Path(swagger_ui_path).iterdir() if p.is_file()}
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url or f"{DOCS_URL}/oauth2-redirect"
    guarded: dict[str, Any] = {"include_in_schema": False, "dependencies": list(dependencies)}

    @app.get(OPENAPI_URL, **guarded)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.api_route(DOCS_ASSETS + "/{name}", methods=["GET", "HEAD"], **guarded)
    def swagger_asset(name: str) -> FileResponse:
        if name not in assets:
            raise HTTPException(404, "Not Found")
        return FileResponse(assets[name])

    @app.get(DOCS_URL, **guarded)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=oauth2_redirect_url,
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )

    @app.get(oauth2_redirect_url, **guarded)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
