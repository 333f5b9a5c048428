"""What routes take from a request besides their own parameters: the filters, the backend, the API key.

Each is a FastAPI dependency, so OpenAPI documents it: the filter parameters are the fields of
``query.filters.FilterQuery`` (the one list of filters), the key is two security schemes that Swagger
UI's "Authorize" fills in.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request, Security
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

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
