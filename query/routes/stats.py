"""Counts over the matching events: errors per time bucket, the most frequent values, latency."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from query.answer import answered
from query.api_params import PROBLEMS, ApiConfigParam, BackendParam, FilterParams, page_limit
from query.models import ErrorsOverTime, Latency, Top
from query.timerange import interval_ms

router = APIRouter(prefix="/api/v1/stats", tags=["stats"], responses=PROBLEMS)


@router.get("/errors-over-time", response_model=ErrorsOverTime)
def errors_over_time(
    f: FilterParams,
    store: BackendParam,
    api: ApiConfigParam,
    interval: Annotated[Literal["1m", "5m", "1h", "1d", "auto"], Query()] = "auto",
    by: Annotated[Literal["endpoint", "user", "service", "error.type", "status_class"] | None, Query()] = None,
    top: Annotated[
        int, Query(ge=1, le=50, description="Series kept by 'by'; the rest is 'other' (another value) or 'missing'.")
    ] = 10,
) -> dict[str, Any]:
    """Error events (level error/fatal/critical, an error.type, or a 5xx) per time bucket."""
    name, width = interval_ms(interval, f.start, f.end, api.max_buckets)
    return answered(store, f, store.errors_over_time(f, name, width, by, top))


@router.get("/top", response_model=Top)
def top(
    f: FilterParams,
    store: BackendParam,
    field: Annotated[Literal["endpoint", "user", "error.type", "service", "status"], Query()],
    limit: Annotated[int, Depends(page_limit(10, 100, "Values listed"))],
    errors: Annotated[bool, Query(description="Count only error events.")] = False,
) -> dict[str, Any]:
    """The most frequent values of a field among the matching events."""
    return answered(store, f, store.top(f, field, limit, errors))


@router.get("/latency", response_model=Latency)
def latency(
    f: FilterParams,
    store: BackendParam,
    limit: Annotated[int, Depends(page_limit(10, 100, "Series listed with 'by'"))],
    by: Annotated[Literal["endpoint"] | None, Query()] = None,
    sort: Annotated[
        Literal["count", "p50", "p95", "p99", "max", "slow"],
        Query(description="Which series 'by' lists: most events (count), or the highest p95… (the slowest)."),
    ] = "count",
) -> dict[str, Any]:
    """Duration percentiles (ms) and slow-request count, overall and per endpoint."""
    return answered(store, f, store.latency(f, by, limit, sort))
