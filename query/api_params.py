"""The API's filter query parameters, generated from ``query.filters.FILTER_PARAMS`` (the one list of filters).

FastAPI reads a dependency's parameters from its signature, so the signature is built from the table:
adding a filter there adds it to every endpoint, to OpenAPI and to the CLI at once.
"""

from __future__ import annotations

import inspect
from typing import Annotated, Any

from fastapi import Query, Request

from query.filters import FILTER_PARAMS, Filters, build_filters


def filters(request: Request, **values: Any) -> Filters:
    """The shared filter parameters, validated into one expression (422 on a wrong value)."""
    return build_filters(**values, templater=request.app.state.templater)


filters.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
    [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
        *(
            inspect.Parameter(
                p.arg,
                inspect.Parameter.KEYWORD_ONLY,
                default=None,
                annotation=Annotated[str | None, Query(alias=p.name, description=p.help)],
            )
            for p in FILTER_PARAMS
        ),
    ],
    return_annotation=Filters,
)
