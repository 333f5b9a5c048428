"""``/``: the query bar, the time picker, the histogram, the field sidebar and the result table."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from core.errors import QueryError
from query.fields import ALIASES
from query.results import field_value
from query.routes.fields import sampled_fields
from query.timerange import histogram_width, parse_time
from ui.pages import backend, page_filters, page_guard, render
from ui.state import DEFAULT_PAGE_SIZE, FIELD_FILTERS, PAGE_SIZE, UNFILTERABLE, State
from ui.views import View

router = APIRouter(dependencies=[Depends(page_guard)])
VIEW = View("discover", "Search", "/", router)
SIDEBAR_TOP = 5
# The sidebar counts the newest 250 matching events (the API's /fields takes 500 by default): each
# document is a read of its own, and for a rare filter they lie far apart (500 took ~300 ms cold).
SIDEBAR_SAMPLE = 250
CONTEXT_LINES = 10
# The sidebar lists these first (the ones people filter on), then the rest by name.
FIRST_FIELDS = (
    "log.level",
    "service.name",
    "endpoint",
    "http.response.status_code",
    "error.type",
    "user.id",
    "host.name",
    "tags",
    "http.request.method",
    "url.path",
)
_pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="ui-discover")


@router.get("/", response_class=HTMLResponse)
def discover(request: Request) -> HTMLResponse:
    state = State(request.query_params)
    f, error, window = page_filters(request, state)
    size = _page_size(state)
    if f is None or error:
        return render(request, "discover.html", error=error, window=None, view=VIEW)
    store = backend(request)
    try:
        # The three questions of a render at once: the store answers them on separate cursors/requests.
        hist = _pool.submit(store.histogram, f, histogram_width(f.start, f.end))
        page = _pool.submit(store.search_events, f, size, "desc", state.get("cursor"))
        sample = _pool.submit(sampled_fields, store, f, SIDEBAR_SAMPLE, SIDEBAR_TOP)
        histogram, events, fields = hist.result(), page.result(), sample.result()
    except QueryError as exc:
        return render(request, "discover.html", error=str(exc), window=window, view=VIEW)
    present = {x["name"] for x in fields["fields"]}
    names = sorted(present | {alias for alias, name in ALIASES.items() if name in present})
    return render(
        request,
        "discover.html",
        error=None,
        window=window,
        view=VIEW,
        histogram=histogram,
        events=events,
        rows=[_row(doc, state.columns) for doc in events["events"]],
        fields=_ordered(fields),
        field_names=names,
        field_filters=FIELD_FILTERS,
        unfilterable=UNFILTERABLE,
        size=size,
        page_size_param=PAGE_SIZE,
    )


def _page_size(state: State) -> int:
    try:
        return max(1, min(1000, int(state.get(PAGE_SIZE) or DEFAULT_PAGE_SIZE)))
    except ValueError:
        return DEFAULT_PAGE_SIZE


def _ordered(fields: dict[str, Any]) -> dict[str, Any]:
    rank = {name: i for i, name in enumerate(FIRST_FIELDS)}
    ordered = sorted(fields["fields"], key=lambda x: (rank.get(x["name"], len(rank)), x["name"]))
    return {**fields, "fields": ordered}


def _row(doc: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
    """What a table row shows: each column's text, the level, and the error (type and message) of errors."""
    level = field_value(doc, "log.level")
    error_type, error_message = field_value(doc, "error.type"), field_value(doc, "error.message")
    cells = []
    for col in columns:
        value = field_value(doc, col)
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = "{…}"
        cells.append((col, "" if value is None else str(value)))
    return {
        "id": str(field_value(doc, "event.id") or ""),
        "at": str(doc.get("@timestamp", "")),
        "level": str(level or ""),
        "cells": cells,
        "error": (str(error_type or ""), str(error_message or "")) if error_type or error_message else None,
    }


@router.get("/ui/event", response_class=HTMLResponse)
def event(request: Request, id: str, at: str | None = None) -> HTMLResponse:
    """One whole document as pretty JSON (an htmx fragment, fetched when its row is first opened)."""
    doc = backend(request).event(id, _when(at))
    if doc is None:
        raise HTTPException(404, f"no event {id!r}")
    return render(request, "_event.html", doc=doc)


def _when(at: str | None) -> dt.datetime | None:
    try:
        return parse_time(at, dt.datetime.now(dt.UTC)) if at else None
    except QueryError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/ui/context", response_class=HTMLResponse)
def context(request: Request, id: str, at: str | None = None, n: int = CONTEXT_LINES) -> HTMLResponse:
    """The lines around an event in its file (an htmx fragment under the expanded row)."""
    n = max(1, min(200, n))
    found = backend(request).context(id, _when(at), n)
    if found is None:
        raise HTTPException(404, f"no event {id!r}")
    return render(request, "_context.html", found=found, n=n, event_id=id)
