"""The OpenAPI document and Swagger UI at /docs, from files this package installs, so the page works offline.

FastAPI's default /docs loads its JavaScript and CSS from a CDN and is blank without internet; here a
vendored Swagger UI (``query/static/swagger-ui``, put there by ``scripts/vendor`` at the version
``vendor.toml`` pins: 5.x, which reads the OpenAPI 3.1 FastAPI writes) is served under ``DOCS_ASSETS``
(FastAPI's "self-hosting JavaScript and CSS for docs"). ReDoc is not vendored, so /redoc is not served.

None of these routes needs the API key, even when one is set: a browser cannot send a header with the
page it is asked to open, and the page, its scripts and the OpenAPI document hold no data, only what
the API takes. The operations themselves stay behind the key; Swagger UI's "Authorize" (or the web
page's login cookie) gives it to "Try it out".
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

OPENAPI_URL = "/openapi.json"
DOCS_URL = "/docs"
DOCS_ASSETS = "/docs-assets"
SWAGGER_UI = Path(str(files("query") / "static" / "swagger-ui"))
SERVED = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "LICENSE", "NOTICE")


def install_docs(app: FastAPI) -> None:
    """/openapi.json, /docs and its assets, served by ``app`` without the key (see the module docstring).

    Create the app with ``docs_url=None, redoc_url=None, openapi_url=None``: these replace FastAPI's own.
    """
    assets = {name: SWAGGER_UI / name for name in SERVED}
    missing = [str(path) for path in assets.values() if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"Swagger UI is not installed with logferry (run scripts/vendor): {missing}")
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url or f"{DOCS_URL}/oauth2-redirect"
    hidden: dict[str, Any] = {"include_in_schema": False}

    @app.get(OPENAPI_URL, **hidden)
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.api_route(DOCS_ASSETS + "/{name}", methods=["GET", "HEAD"], **hidden)
    def swagger_asset(name: str) -> FileResponse:
        if name not in assets:
            raise HTTPException(404, "Not Found")
        return FileResponse(assets[name])

    @app.get(DOCS_URL, **hidden)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=oauth2_redirect_url,
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
        )

    @app.get(oauth2_redirect_url, **hidden)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
