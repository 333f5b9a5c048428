"""The query API: events, error counts over time, top values and latency, over either backend.

The routes live in ``query/routes`` (one router per resource); here they are put together with the
key guard (a security dependency, added to every router but the liveness probe when a key is set),
the docs, the error handlers and the request metrics.
"""

from __future__ import annotations

import importlib.metadata
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Depends, FastAPI, Request, Security, params
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute

from core.errors import QueryError
from query.api_params import UNAUTHORIZED, RequireApiKey, refuse_unknown_params
from query.backend import Backend, BackendUnavailable, QueryTimeout
from query.config import ApiConfig
from query.docs import install_docs
from query.filters import EndpointTemplater
from query.metrics import API_LATENCY, API_REQUESTS
from query.routes import errors, events, export, fields, health, histogram, patterns, saved, stats, tail
from query.saved import SavedSearches

ROUTERS = (
    events.router,
    histogram.router,
    fields.router,
    tail.router,
    export.router,
    saved.router,
    stats.router,
    errors.router,
    patterns.router,
)


def create_app(
    api: ApiConfig, backend: Backend, *, templater: EndpointTemplater, saved_searches: SavedSearches | None = None
) -> FastAPI:
    """The API of ``[api]`` over ``backend``; ``templater`` turns an ``endpoint`` filter's path into its route;
    ``saved_searches`` keeps the saved searches (none kept without it).

    It takes what it serves, not the settings: building the backend from config is the roof's job
    (``logferry.components.query_app``).
    """
    app = FastAPI(
        title="logferry query API",
        version=importlib.metadata.version("logferry"),
        description="Search shipped log events and count errors, over DuckDB or Elasticsearch.",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.backend = backend
    app.state.api_config = api
    app.state.templater = templater
    app.state.saved = saved_searches
    app.state.key_guard = RequireApiKey(api.api_key) if api.api_key else None

    guard: list[params.Depends] = [Security(app.state.key_guard)] if api.api_key else []
    refused: dict[int | str, dict[str, Any]] | None = UNAUTHORIZED if api.api_key else None
    strict = [*guard, Depends(refuse_unknown_params)]
    for router in ROUTERS:
        app.include_router(router, dependencies=strict, responses=refused)
    app.include_router(health.liveness)
    app.include_router(health.router, dependencies=guard, responses=refused)
    install_docs(app)

    @app.exception_handler(QueryError)
    async def _bad_query(request: Request, exc: QueryError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(405)
    async def _method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
        """``Allow`` lists every method of the path: Starlette's names only the first route's, and
        ``/api/v1/saved-searches/{name}`` has three routes (GET, PUT, DELETE)."""
        allowed = sorted(
            {
                m
                for r in app.routes
                if isinstance(r, APIRoute) and r.path_regex.match(request.url.path)
                for m in r.methods or ()
            }
        )
        return JSONResponse({"detail": "Method Not Allowed"}, status_code=405, headers={"Allow": ", ".join(allowed)})

    @app.exception_handler(BackendUnavailable)
    @app.exception_handler(QueryTimeout)
    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    _install_request_metrics(app)
    return app


def _install_request_metrics(app: FastAPI) -> None:
    """Requests and latency per route template, method and status, around every route (refusals included)."""

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = str(getattr(request.scope.get("route"), "path", "other"))
        API_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        API_LATENCY.labels(route).observe(time.perf_counter() - started)
        return response
