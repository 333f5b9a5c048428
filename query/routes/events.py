"""Events matching the filters, paged."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from query.answer import answered
from query.api_params import PROBLEMS, BackendParam, FilterParams, page_limit
from query.models import Context, EventsPage
from query.timerange import parse_time

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


@router.get("/events/{event_id}/context", response_model=Context, responses={404: {"description": "No such event."}})
def context(
    event_id: Annotated[str, Path(min_length=1, max_length=200)],
    store: BackendParam,
    n: Annotated[int, Query(ge=1, le=500, description="Lines before and after.")] = 10,
    at: Annotated[
        str | None, Query(max_length=64, description="The event's @timestamp: looks in its day only (faster).")
    ] = None,
) -> dict[str, Any]:
    """The event and the ``n`` lines before and after it from the same source: same ``host.name`` and
    ``log.file.path``, in ``log.offset`` order, within a day of the event."""
    found = store.context(event_id, parse_time(at, dt.datetime.now(dt.UTC)) if at else None, n)
    if found is None:
        raise HTTPException(404, f"no event {event_id!r}" + (f" on the day of {at}" if at else ""))
    return found
