"""``/stats/latency``: duration percentiles per endpoint, sortable by any column (``/api/v1/stats/latency``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ui.pages import ask, backend, page_guard, render
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
    result, error, window = ask(request, state, lambda f: backend(request).latency(f, "endpoint", ENDPOINTS_SHOWN))
    series = sorted(
        (result or {}).get("series", []),
        key=lambda s: (s["key"],) if sort == "key" else (s[sort] is None, -(s[sort] or 0), s["key"]),
    )
    return render(
        request,
        "latency.html",
        error=error,
        window=window,
        view=VIEW,
        result=result,
        series=series,
        sort=sort,
        sorts=SORTS,
    )
