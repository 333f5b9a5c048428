"""Error groups: what is failing, since when, for whom; and a person's decision on each (resolve, ignore)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from core.timefmt import iso_ms
from query.api_params import PROBLEMS, ApiConfigParam, BackendParam, FilterParams
from query.groups import check_key, error_groups
from query.models import ErrorGroups, GroupDecision, GroupStateOut, Problem
from query.timerange import interval_ms

router = APIRouter(prefix="/api/v1/errors", tags=["errors"], responses=PROBLEMS)

GroupKey = Annotated[str, Path(description="error.grouping_key of the group (32 hex digits).")]


@router.get("/groups", response_model=ErrorGroups)
def groups(
    f: FilterParams,
    store: BackendParam,
    api: ApiConfigParam,
    interval: Annotated[Literal["1m", "5m", "1h", "1d", "auto"], Query(description="Sparkline bucket.")] = "auto",
    sort: Annotated[Literal["count", "last", "first", "users"], Query(description="Most first.")] = "count",
    limit: Annotated[int, Query(ge=1, le=500, description="Groups returned.")] = 50,
    state: Annotated[
        Literal["open", "new", "regressed", "resolved", "ignored", "all"],
        Query(description="open: not resolved (or regressed) and not ignored; new: first seen in the range."),
    ] = "open",
) -> dict[str, Any]:
    """The error events matching the filters, grouped by error.grouping_key: count, users, first and last
    seen, top endpoints and services, a count per interval, the newest event; flagged new and regressed."""
    name, width = interval_ms(interval, f.start, f.end, api.max_buckets)
    return error_groups(store, store.states, f, name, width, sort, limit, state)


@router.put(
    "/groups/{key}/state",
    response_model=GroupStateOut,
    responses={400: {"model": Problem, "description": "The body is not JSON."}},
)
def decide(key: GroupKey, decision: GroupDecision, store: BackendParam) -> dict[str, Any]:
    """Resolve or ignore a group, or open it again. A resolved group seen again is regressed."""
    state = store.states.decide(check_key(key), decision.state, dt.datetime.now(dt.UTC))
    if state is None:
        return {"key": key, "state": "open", "changed": None}
    return {"key": key, "state": state.state, "changed": iso_ms(state.changed)}
