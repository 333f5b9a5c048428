"""``/saved``: the saved searches (a name for a page's URL state); saving and deleting from the page."""

from __future__ import annotations

import urllib.parse

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from core.errors import QueryError
from query.saved import SAVED_PARAMS, SavedSearches
from ui.pages import page_guard, render, same_site
from ui.views import View

router = APIRouter(dependencies=[Depends(page_guard)])
VIEW = View("saved", "Saved searches", "/saved", router, keeps_filters=False)


def _store(request: Request) -> SavedSearches:
    store: SavedSearches | None = request.app.state.saved
    if store is None:
        raise HTTPException(404, "saved searches are not kept by this server")
    return store


@router.get("/saved", response_class=HTMLResponse)
def saved(request: Request) -> HTMLResponse:
    searches = [{**s, "url": "/?" + urllib.parse.urlencode(s["params"])} for s in _store(request).list()]
    return render(request, "saved.html", error=None, window=None, view=VIEW, searches=searches)


@router.post("/saved", dependencies=[Depends(same_site)])
async def save(request: Request) -> Response:
    """From the search page's form: ``name`` and ``state`` (the page's query string)."""
    form = urllib.parse.parse_qs((await request.body()).decode(errors="replace"))
    name = (form.get("name") or [""])[0].strip()
    state = dict(urllib.parse.parse_qsl((form.get("state") or [""])[0]))
    params = {k: v for k, v in state.items() if k in SAVED_PARAMS}
    try:
        _store(request).put(name, params)
    except QueryError as exc:
        searches = [{**s, "url": "/?" + urllib.parse.urlencode(s["params"])} for s in _store(request).list()]
        return render(request, "saved.html", error=str(exc), window=None, view=VIEW, searches=searches)
    return RedirectResponse("/saved?" + urllib.parse.urlencode({"saved": name}), status_code=303)


@router.post("/saved/delete", dependencies=[Depends(same_site)])
async def delete(request: Request) -> Response:
    form = urllib.parse.parse_qs((await request.body()).decode(errors="replace"))
    _store(request).delete((form.get("name") or [""])[0])
    return RedirectResponse("/saved", status_code=303)
