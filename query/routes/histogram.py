"""Matching events over the whole range, per bar, stacked by level: the page's histogram."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from query.api_params import PROBLEMS, BackendParam, FilterParams
from query.models import Histogram
from query.timerange import HISTOGRAM_MAX_BARS, histogram_width

router = APIRouter(prefix="/api/v1", tags=["events"], responses=PROBLEMS)


@router.get("/histogram", response_model=Histogram)
def histogram(
    f: FilterParams,
    store: BackendParam,
    bars: Annotated[
        int, Query(ge=10, le=1000, description="At most this many bars; a round width gives more than half of it.")
    ] = HISTOGRAM_MAX_BARS,
) -> dict[str, Any]:
    """Matching events per time bar (counted by an aggregation), each bar split by ``log.level``."""
    return store.histogram(f, histogram_width(f.start, f.end, bars))
