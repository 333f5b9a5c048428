"""``/stats/errors``: errors over time, split by endpoint or error type (``/api/v1/stats/errors-over-time``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from query.answer import answered
from query.filters import Filters
from query.timerange import interval_ms
from ui.pages import ask, backend, page_guard, render
from ui.state import State
from ui.views import View

router = APIRouter(dependencies=[Depends(page_guard)])
VIEW = View("errors", "Errors over time", "/stats/errors", router)
BY = ("endpoint", "error.type", "service", "user", "status_class")
INTERVALS = ("auto", "1m", "5m", "1h", "1d")


@router.get("/stats/errors", response_class=HTMLResponse)
def errors(request: Request) -> HTMLResponse:
    state = State(request.query_params)
    by = state.get("by", "endpoint")
    by = by if by in BY else "endpoint"
    interval = state.get("interval", "auto")
    interval = interval if interval in INTERVALS else "auto"
    max_buckets = request.app.state.api_config.max_buckets

    def question(f: Filters) -> dict[str, Any]:
        name, width = interval_ms(interval, f.start, f.end, max_buckets)
        store = backend(request)
        return answered(store, f, store.errors_over_time(f, name, width, by, 10))

    result, error, window = ask(request, state, question)
    totals: dict[str, int] = {}
    for bucket in (result or {}).get("buckets", []):
        for key, n in bucket["series"].items():
            totals[key] = totals.get(key, 0) + n
    return render(
        request,
        "errors.html",
        error=error,
        window=window,
        view=VIEW,
        result=result,
        by=by,
        by_choices=BY,
        interval=interval,
        intervals=INTERVALS,
        totals=sorted(totals.items(), key=lambda kv: (kv[0] in ("other", "missing"), -kv[1], kv[0])),
        total=sum(b["count"] for b in (result or {}).get("buckets", [])),
    )
