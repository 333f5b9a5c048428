"""Log patterns: the messages of any query mined into templates (``query.patterns``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from query.api_params import PROBLEMS, BackendParam, FilterParams
from query.models import Patterns
from query.patterns import mine

router = APIRouter(prefix="/api/v1", tags=["patterns"], responses=PROBLEMS)


@router.get("/patterns", response_model=Patterns)
def patterns(
    f: FilterParams,
    store: BackendParam,
    limit: Annotated[int, Query(ge=1, le=1000, description="Patterns returned, most lines first.")] = 50,
    sample: Annotated[
        int, Query(ge=100, le=200_000, description="The newest events mined (a bound on the query's cost).")
    ] = 20_000,
) -> dict[str, Any]:
    """The messages of the events matching the filters as templates (variables as <*>): count, share, first
    and last seen, a sample line, and a q that finds the pattern's lines. Mined over the newest 'sample'."""
    total = store.search_events(f, 1, "desc", None)["total"]
    return mine(store.messages(f, sample), total, limit)
