"""What routes take from a request besides their own parameters: the filters, the backend, the API key.

Each is a FastAPI dependency, so OpenAPI documents it: the filter parameters are the fields of
``query.filters.FilterQuery`` (the one list of filters), the key is two security schemes that Swagger
UI's "Authorize" fills in.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Security
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from core.errors import QueryError
from query.backend import Backend
from query.config import ApiConfig
from query.filters import FilterQuery, Filters, build_filters
from query.models import Problem

WRONG_KEY = "missing or wrong API key (Authorization: Bearer <key> or X-API-Key, or log in at /login)"
SESSION_COOKIE = "logferry_session"
"""The web page's login cookie (HttpOnly, SameSite=Strict): a token made from the key, never the key."""
LOGIN_ROUTE = "/login"
"""Where a browser gives the key once (``ui/``); it sets ``SESSION_COOKIE``."""
API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key", scheme_name="ApiKey", auto_error=False, description="The key of `[api] api_key`."
)
SESSION = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="LoginCookie",
    auto_error=False,
    description=f"Set by `POST {LOGIN_ROUTE}` with the key (the web page's login).",
)
BEARER = HTTPBearer(scheme_name="Bearer", auto_error=False, description="`Authorization: Bearer <api_key>`.")
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {401: {"model": Problem, "description": "Missing or wrong API key."}}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    422: {"description": "A parameter is wrong; the message says which and why."},
    503: {"model": Problem, "description": "The store cannot be read right now or the query timed out."},
}


def filters(request: Request, params: Annotated[FilterQuery, Query()]) -> Filters:
    """The shared filter parameters, validated into one expression (422 on a wrong value)."""
    return build_filters(**params.model_dump(), templater=request.app.state.templater)


def backend(request: Request) -> Backend:
    """The store the app was created over."""
    store: Backend = request.app.state.backend
    return store


def api_config(request: Request) -> ApiConfig:
    """The ``[api]`` settings the app was created with."""
    config: ApiConfig = request.app.state.api_config
    return config


def refuse_unknown_params(request: Request) -> None:
    """A query parameter the route does not take is a mistake (``frm=now-1h``, ``limt=5``), not something to
    ignore: refused with the route's parameters, before anything is read. Routes OpenAPI does not
    document are left alone (there is no list to check against)."""
    route = request.scope.get("route")
    path = getattr(route, "path_format", None)
    known = known_query_params(request.app, path, request.method) if path else None
    if known is None:
        return
    unknown = [name for name in request.query_params if name not in known]
    if unknown:
        raise QueryError(unknown_params_message(unknown, known))


def unknown_params_message(unknown: list[str], known: frozenset[str]) -> str:
    """``unknown parameter 'frm' (did you mean 'from'?); this endpoint takes: …``."""
    parts = []
    for name in unknown:
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        parts.append(f"{name!r} (did you mean {close[0]!r}?)" if close else repr(name))
    noun = "parameter" if len(unknown) == 1 else "parameters"
    return f"unknown {noun} {', '.join(parts)}; this endpoint takes: {', '.join(sorted(known))}"


def known_query_params(app: FastAPI, path: str, method: str) -> frozenset[str] | None:
    """The query parameters OpenAPI documents for ``method path`` (None for an undocumented route): the
    one list of what a route takes."""
    cache: dict[tuple[str, str], frozenset[str] | None] | None = getattr(app.state, "query_params", None)
    if cache is None:
        cache = app.state.query_params = {}
    key = (path, "get" if method.lower() == "head" else method.lower())
    if key not in cache:
        operation = app.openapi().get("paths", {}).get(path, {}).get(key[1])
        cache[key] = (
            None
            if operation is None
            else frozenset(p["name"] for p in operation.get("parameters", ()) if p.get("in") == "query")
        )
    return cache[key]


def page_limit(default: int, maximum: int, what: str) -> Callable[..., int]:
    """The ``limit`` parameter (the CLI's ``--limit``), with ``size`` accepted as its older name."""

    # Defaults, not ``Annotated``: the bounds are this closure's, and string annotations cannot see them.
    described = f"{what} (default {default}, at most {maximum})."

    def limit_or_size(
        limit: int | None = Query(None, ge=1, le=maximum, description=described),
        size: int | None = Query(None, ge=1, le=maximum, description="Older name of limit.", deprecated=True),
    ) -> int:
        if limit is not None and size is not None and limit != size:
            raise QueryError(f"limit={limit} and size={size} disagree: size is another name of limit, give one")
        return limit if limit is not None else size if size is not None else default

    return limit_or_size


FilterParams = Annotated[Filters, Depends(filters)]
BackendParam = Annotated[Backend, Depends(backend)]
ApiConfigParam = Annotated[ApiConfig, Depends(api_config)]


def session_token(key: str) -> str:
    """The login cookie's value for ``key``: an HMAC of it, so the cookie never holds the key itself."""
    return hmac.new(key.encode(), b"logferry web session v1", hashlib.sha256).hexdigest()


class RequireApiKey:
    """A security dependency: the request must carry ``key`` as ``X-API-Key``, as a bearer token, or
    the login cookie the web page set (``SESSION_COOKIE``, made by ``session_token``).

    A header, when given, decides alone (a wrong header is refused even beside a good cookie); the
    comparisons take constant time.
    """

    def __init__(self, key: str) -> None:
        self._key = key.encode()
        self._session = session_token(key).encode()

    def __call__(
        self,
        x_api_key: Annotated[str | None, Security(API_KEY_HEADER)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
        session: Annotated[str | None, Security(SESSION)],
    ) -> None:
        if not self.allows(x_api_key, bearer.credentials if bearer is not None else None, session):
            raise HTTPException(401, WRONG_KEY, headers={"WWW-Authenticate": "Bearer"})

    def allows(self, x_api_key: str | None, bearer: str | None, session: str | None) -> bool:
        if x_api_key is not None or bearer is not None:
            given = x_api_key if x_api_key is not None else bearer or ""
            return hmac.compare_digest(given.encode(), self._key)
        return session is not None and hmac.compare_digest(session.encode(), self._session)

    def key_matches(self, given: str) -> bool:
        """Whether a key typed into the login form is the key."""
        return hmac.compare_digest(given.encode(), self._key)
