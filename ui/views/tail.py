"""``/tail``: the live tail; the page opens ``/api/v1/tail`` (server-sent events) with its filters."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ui.pages import page_filters, page_guard, render
from ui.state import State
from ui.views import View

router = APIRouter(dependencies=[Depends(page_guard)])
VIEW = View("tail", "Live tail", "/tail", router)


@router.get("/tail", response_class=HTMLResponse)
def tail(request: Request) -> HTMLResponse:
    state = State(request.query_params)
    f, error, window = page_filters(request, state)
    stream = "/api/v1/tail?" + urllib.parse.urlencode({k: v for k, v in state.filters.items() if v})
    return render(request, "tail.html", error=error, window=None, view=VIEW, stream=stream, tail_view=True)
