"""The query API: events, error counts over time, top values and latency, over either backend."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

import orjson
from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.routing import Match

from core.errors import QueryError
from core.metrics import REGISTRY
from enrich.endpoint import TemplateEndpoint
from logferry import __version__
from logferry.config import Settings
from query.api_params import filters
from query.backend import Backend, BackendUnavailable, QueryTimeout, backend_from_settings
from query.docs import install_docs
from query.filters import Filters
from query.metrics import API_LATENCY, API_REQUESTS
from query.models import ErrorsOverTime, EventsPage, Health, Latency, Problem, Top
from query.timerange import interval_ms

OPEN_PATHS = frozenset({"/healthz"})
PROBLEMS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing or wrong API key."},
    422: {"description": "A parameter is wrong; the message says which and why."},
    503: {"model": Problem, "description": "The store cannot be read right now or the query timed out."},
}


def _json(data: Any) -> Response:
    return Response(orjson.dumps(data), media_type="application/json")


Common = Annotated[Filters, Depends(filters)]


def create_app(settings: Settings, backend: Backend | None = None) -> FastAPI:
    """The API over ``backend`` (built from ``settings`` when not given)."""
    store: Backend = backend if backend is not None else backend_from_settings(settings)
    api = settings.api
    templater = TemplateEndpoint(settings.processors.template_endpoint).template  # type: ignore[attr-defined]
    app = FastAPI(
        title="logferry query API",
        version=__version__,
        description="Search shipped log events and count errors, over DuckDB or Elasticsearch.",
        docs_url=None,
        redoc_url=None,
    )
    install_docs(app)
    app.state.backend = store
    app.state.templater = templater

    _install_middleware(app, api.api_key)

    @app.exception_handler(QueryError)
    async def _bad_query(request: Request, exc: QueryError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(BackendUnavailable)
    @app.exception_handler(QueryTimeout)
    async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.get("/api/v1/events", response_model=EventsPage, responses=PROBLEMS)
    def events(
        f: Common,
        size: Annotated[int, Query(ge=1, le=1000)] = 100,
        sort: Annotated[Literal["desc", "asc"], Query(description="desc = newest first")] = "desc",
        cursor: Annotated[str | None, Query(max_length=2000, description="'next' of the previous page")] = None,
    ) -> Response:
        """Events matching the filters, newest first, paged with an opaque cursor."""
        return _json(store.search_events(f, size, sort, cursor))

    @app.get("/api/v1/stats/errors-over-time", response_model=ErrorsOverTime, responses=PROBLEMS)
    def errors_over_time(
        f: Common,
        interval: Annotated[Literal["1m", "5m", "1h", "1d", "auto"], Query()] = "auto",
        by: Annotated[Literal["endpoint", "user", "service", "error.type", "status_class"] | None, Query()] = None,
        top: Annotated[int, Query(ge=1, le=50, description="Series kept by 'by'; the rest is 'other'.")] = 10,
    ) -> Response:
        """Error events (level error/fatal/critical, an error.type, or a 5xx) per time bucket."""
        name, width = interval_ms(interval, f.start, f.end, api.max_buckets)
        return _json(store.errors_over_time(f, name, width, by, top))

    @app.get("/api/v1/stats/top", response_model=Top, responses=PROBLEMS)
    def top(
        f: Common,
        field: Annotated[Literal["endpoint", "user", "error.type", "service", "status"], Query()],
        size: Annotated[int, Query(ge=1, le=100)] = 10,
        errors: Annotated[bool, Query(description="Count only error events.")] = False,
    ) -> Response:
        """The most frequent values of a field among the matching events."""
        return _json(store.top(f, field, size, errors))

    @app.get("/api/v1/stats/latency", response_model=Latency, responses=PROBLEMS)
    def latency(
        f: Common,
        by: Annotated[Literal["endpoint"] | None, Query()] = None,
        size: Annotated[int, Query(ge=1, le=100)] = 10,
    ) -> Response:
        """Duration percentiles (ms) and slow-request count, overall and per endpoint."""
        return _json(store.latency(f, by, size))

    @app.get("/healthz", response_model=Health)
    def healthz() -> dict[str, str]:
        """The process is up (no backend call, no key needed)."""
        return {"status": "ok"}

    @app.get("/readyz", response_model=Health, responses={503: {"model": Health}})
    def readyz() -> Response:
        """The backend can be read."""
        try:
            detail = store.ping()
        except Exception as exc:  # any failure to reach the store means "not ready", never a 500
            return JSONResponse({"status": "unavailable", "detail": str(exc)}, status_code=503)
        return _json({"status": "ready", "detail": detail})

    @app.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
    def metrics() -> Response:
        """Prometheus text: the pipeline's counters and the API's requests and latency."""
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return app


def _install_middleware(app: FastAPI, api_key: str | None) -> None:
    """API-key check (constant time) and request metrics, around every route."""
    key = api_key.encode() if api_key else None

    def route_of(request: Request) -> str:
        for route in app.router.routes:
            match, _ = route.matches(request.scope)
            if match is Match.FULL:
                return str(getattr(route, "path", "other"))
        return "other"

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        route = route_of(request)
        if key is not None and request.url.path not in OPEN_PATHS and not _authorized(request, key):
            response: Response = JSONResponse(
                {"detail": "missing or wrong API key (Authorization: Bearer <key> or X-API-Key)"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        else:
            response = await call_next(request)
        API_REQUESTS.labels(route, request.method, str(response.status_code)).inc()
        API_LATENCY.labels(route).observe(time.perf_counter() - started)
        return response


def _authorized(request: Request, key: bytes) -> bool:
    given = request.headers.get("x-api-key")
    if given is None:
        auth = request.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        given = token.strip() if scheme.lower() == "bearer" else ""
    return hmac.compare_digest(given.encode(), key)
