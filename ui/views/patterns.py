"""``/patterns``: the messages of the URL's filters mined into templates (``/api/v1/patterns``), each
linking to the search its ``query`` gives (joined to the filters' own ``q``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from query.filters import Filters
from query.patterns import mine
from ui.pages import ask, backend, bounded_int, page_guard, render
from ui.state import State
from ui.views import View

router = APIRouter(dependencies=[Depends(page_guard)])
VIEW = View("patterns", "Patterns", "/patterns", router)
DEFAULT_LIMIT, MAX_LIMIT = 50, 1000
DEFAULT_SAMPLE, MIN_SAMPLE, MAX_SAMPLE = 20_000, 100, 200_000
"""The API's bounds: the newest ``sample`` matching events are mined."""
SAMPLES = (1_000, DEFAULT_SAMPLE, 100_000)


@router.get("/patterns", response_class=HTMLResponse)
def patterns(request: Request) -> HTMLResponse:
    state = State(request.query_params)

    def question(f: Filters) -> dict[str, Any]:
        limit = bounded_int(state, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        sample = bounded_int(state, "sample", DEFAULT_SAMPLE, MIN_SAMPLE, MAX_SAMPLE)
        store = backend(request)
        total = store.search_events(f, 1, "desc", None)["total"]
        return mine(store.messages(f, sample), total, limit)

    result, error, window = ask(request, state, question)
    rows = [
        {**p, "search": "/?" + state.search_with(p["query"]) if p["query"] else None}
        for p in (result or {}).get("patterns", [])
    ]
    # Asked for as many as were mined: there may be more (a valid limit, since there is a result).
    more = result is not None and len(rows) == bounded_int(state, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT) < MAX_LIMIT
    return render(
        request,
        "patterns.html",
        error=error,
        window=window,
        view=VIEW,
        result=result,
        rows=rows,
        sample=state.get("sample") or str(DEFAULT_SAMPLE),
        samples=SAMPLES,
        default_sample=DEFAULT_SAMPLE,
        max_limit=MAX_LIMIT,
        more=more,
    )
