"""What routes take from a request besides their own parameters: the filters, the backend, the API key.

Each is a FastAPI dependency, so OpenAPI documents it: the filter parameters are the fields of
``query.filters.FilterQuery`` (the one list of filters), the key is two security schemes that Swagger
UI's "Authorize" fills in.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from query.backend import Backend
from query.config import ApiConfig
from query.filters import FilterQuery, Filters, build_filters
from query.models import Problem

WRONG_KEY = "missing or wrong API key (Authorization: Bearer <key> or X-API-Key)"
API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key", scheme_name="ApiKey", auto_error=False, description="The key of `[api] api_key`."
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


class RequireApiKey:
    """A security dependency: the request must carry ``key`` as ``X-API-Key`` or as a bearer token.

    A given ``X-API-Key`` decides alone; the comparison takes constant time.
    """

    def __init__(self, key: str) -> None:
        self._key = key.encode()

    def __call__(
        self,
        x_api_key: Annotated[str | None, Security(API_KEY_HEADER)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
    ) -> None:
        given = x_api_key if x_api_key is not None else bearer.credentials if bearer is not None else ""
        if not hmac.compare_digest(given.encode(), self._key):
            raise HTTPException(401, WRONG_KEY, headers={"WWW-Authenticate": "Bearer"})
