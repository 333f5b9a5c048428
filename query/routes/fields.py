"""The fields of the matching events with their top values, counted over a sample: the page's sidebar."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from query.api_params import PROBLEMS, BackendParam, FilterParams
from query.field_summary import field_summary
from query.models import Fields

router = APIRouter(prefix="/api/v1", tags=["events"], responses=PROBLEMS)
SAMPLE = 500


@router.get("/fields", response_model=Fields)
def fields(
    f: FilterParams,
    store: BackendParam,
    sample: Annotated[int, Query(ge=1, le=5000, description="Newest matching events counted.")] = SAMPLE,
    top: Annotated[int, Query(ge=1, le=50, description="Values listed per field.")] = 5,
) -> dict[str, Any]:
    """Every field of the newest ``sample`` matching events: in how many it appears, its distinct and top values."""
    return sampled_fields(store, f, sample, top)


def sampled_fields(store: Any, f: Any, sample: int, top: int) -> dict[str, Any]:
    page = store.search_events(f, sample, "desc", None)
    docs = page["events"]
    return {"total": page["total"], "sampled": len(docs), "fields": field_summary(docs, top)}
