"""``/stats/latency``: duration percentiles per endpoint, sortable by any column (``/api/v1/stats/latency``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from core.errors import QueryError
from ui.pages import backend, page_filters, page_guard, render
from ui.state import State
from ui.views import View

router = APIRouter(dependencies=[Depends(page_guard)])
VIEW = View("latency", "Latency", "/stats/latency", router)
SORTS = ("p95", "p50", "p99", "max", "count", "slow", "key")
ENDPOINTS_SHOWN = 100


@router.get("/stats/latency", response_class=HTMLResponse)
def latency(request: Request) -> HTMLResponse:
    state = State(request.query_params)
    sort = state.get("sort", "p95")
    sort = sort if sort in SORTS else "p95"
    f, error, window = page_filters(request, state)
    result = None
    series: list[dict[str, Any]] = []
    if f is not None:
        try:
            result = backend(request).latency(f, "endpoint", ENDPOINTS_SHOWN)
        except QueryError as exc:
            error = str(exc)
        else:
            series = sorted(
                result["series"],
                key=lambda s: (s["key"],) if sort == "key" else (s[sort] is None, -(s[sort] or 0), s["key"]),
            )
    return render(
        request,
        "latency.html",
        status_code=422 if error else 200,
        error=error,
        window=window,
        view=VIEW,
        result=result,
        series=series,
        sort=sort,
        sorts=SORTS,
    )
