"""Events matching the filters, paged."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from query.answer import answered
from query.api_params import PROBLEMS, BackendParam, FilterParams, page_limit
from query.models import EventsPage

router = APIRouter(prefix="/api/v1", tags=["events"], responses=PROBLEMS)


@router.get("/events", response_model=EventsPage)
def events(
    f: FilterParams,
    store: BackendParam,
    limit: Annotated[int, Depends(page_limit(100, 1000, "Events per page"))],
    sort: Annotated[Literal["desc", "asc"], Query(description="desc = newest first")] = "desc",
    cursor: Annotated[str | None, Query(max_length=2000, description="'next' of the previous page")] = None,
) -> dict[str, Any]:
    """Events matching the filters, newest first, paged with an opaque cursor."""
    return answered(store, f, store.search_events(f, limit, sort, cursor))
