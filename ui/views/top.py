"""``/stats/top``: the most frequent values of a field among the matching events (``/api/v1/stats/top``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from ui.pages import ask, backend, page_guard, render
from ui.state import State
from ui.views import View

router = APIRouter(dependencies=[Depends(page_guard)])
VIEW = View("top", "Top values", "/stats/top", router)
FIELDS = {
    "endpoint": "endpoint",
    "user": "user.id",
    "error.type": "error.type",
    "service": "service.name",
    "status": "http.response.status_code",
}


@router.get("/stats/top", response_class=HTMLResponse)
def top(request: Request) -> HTMLResponse:
    state = State(request.query_params)
    field = state.get("field", "endpoint")
    field = field if field in FIELDS else "endpoint"
    only_errors = state.get("errors") in ("true", "1", "on")
    result, error, window = ask(request, state, lambda f: backend(request).top(f, field, 20, only_errors))
    return render(
        request,
        "top.html",
        error=error,
        window=window,
        view=VIEW,
        result=result,
        field=field,
        field_choices=FIELDS,
        ecs_field=FIELDS[field],
        only_errors=only_errors,
    )
