"""Saved searches: a name for a search's query parameters, kept in the data dir or an index."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request

from query.api_params import PROBLEMS
from query.models import SavedSearch, SavedSearchBody
from query.saved import SavedSearches

router = APIRouter(prefix="/api/v1/saved-searches", tags=["saved searches"], responses=PROBLEMS)
NameParam = Annotated[str, Path(min_length=1, max_length=100)]


def saved_store(request: Request) -> SavedSearches:
    store: SavedSearches | None = request.app.state.saved
    if store is None:
        raise HTTPException(404, "saved searches are not kept by this server")
    return store


SavedParam = Annotated[SavedSearches, Depends(saved_store)]


@router.get("", response_model=list[SavedSearch])
def list_saved(saved: SavedParam) -> list[dict[str, Any]]:
    """Every saved search, by name."""
    return saved.list()


@router.get("/{name}", response_model=SavedSearch, responses={404: {"description": "No search of that name."}})
def get_saved(name: NameParam, saved: SavedParam) -> dict[str, Any]:
    found = saved.get(name)
    if found is None:
        raise HTTPException(404, f"no saved search named {name!r}")
    return found


@router.put("/{name}", response_model=SavedSearch, responses={400: {"description": "The body is not JSON."}})
def put_saved(name: NameParam, body: SavedSearchBody, saved: SavedParam) -> dict[str, Any]:
    """Save (or replace) ``name``: the query parameters of a search, as the API and the page name them."""
    return saved.put(name, body.params)


@router.delete("/{name}", status_code=204, responses={404: {"description": "No search of that name."}})
def delete_saved(name: NameParam, saved: SavedParam) -> None:
    if not saved.delete(name):
        raise HTTPException(404, f"no saved search named {name!r}")
