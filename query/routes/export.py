"""The matching events as a file, CSV or NDJSON, up to a stated number of rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from core.errors import QueryError
from query.api_params import PROBLEMS, BackendParam, FilterParams
from query.backend import Backend
from query.filters import Filters
from query.results import field_value

router = APIRouter(prefix="/api/v1", tags=["events"], responses=PROBLEMS)
EXPORT_MAX_ROWS = 100_000
EXPORT_DEFAULT_ROWS = 10_000
EXPORT_PAGE = 1000
EXPORT_COLUMNS = (
    "@timestamp",
    "log.level",
    "service.name",
    "endpoint",
    "http.response.status_code",
    "message",
    "error.type",
    "error.message",
)
MEDIA = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
)
def export(
    f: FilterParams,
    store: BackendParam,
    format: Annotated[Literal["csv", "ndjson"], Query(description="csv: columns; ndjson: documents.")] = "csv",
    limit: Annotated[
        int, Query(ge=1, le=EXPORT_MAX_ROWS, description=f"Rows at most (at most {EXPORT_MAX_ROWS:,}).")
    ] = EXPORT_DEFAULT_ROWS,
    columns: Annotated[
        str | None, Query(max_length=2000, description="CSV columns, comma-separated field names.")
    ] = None,
    sort: Annotated[Literal["desc", "asc"], Query(description="desc = newest first")] = "desc",
) -> StreamingResponse:
    """The matching events, newest first, as CSV (one column per field) or NDJSON (the stored documents).

    ``X-Total-Count`` says how many matched and ``X-Row-Limit`` how many the file holds at most.
    """
    cols = export_columns(columns)
    first = store.search_events(f, min(EXPORT_PAGE, limit), sort, None)
    rows = export_rows(store, f, first, limit, sort)
    body = csv_lines(rows, cols) if format == "csv" else (orjson.dumps(doc) + b"\n" for doc in rows)
    headers = {
        "Content-Disposition": f'attachment; filename="logferry-events.{format}"',
        "X-Total-Count": str(first["total"]),
        "X-Row-Limit": str(limit),
    }
    return StreamingResponse(body, media_type=MEDIA[format], headers=headers)


def export_columns(columns: str | None) -> tuple[str, ...]:
    if not columns:
        return EXPORT_COLUMNS
    cols = tuple(c.strip() for c in columns.split(",") if c.strip())
    if not cols or len(cols) > 100:
        raise QueryError("columns takes 1 to 100 comma-separated field names")
    return cols


def export_rows(store: Backend, f: Filters, first: dict[str, Any], limit: int, sort: str) -> Iterator[dict[str, Any]]:
    """Documents page after page through the cursor, ``limit`` at most."""
    page, sent = first, 0
    while True:
        for doc in page["events"][: limit - sent]:
            yield doc
            sent += 1
        if sent >= limit or page["next"] is None:
            return
        page = store.search_events(f, min(EXPORT_PAGE, limit - sent), sort, page["next"])


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value).lower() if isinstance(value, bool) else str(value)


def csv_lines(rows: Iterator[dict[str, Any]], cols: tuple[str, ...]) -> Iterator[bytes]:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(cols)
    for i, doc in enumerate(rows):
        writer.writerow([cell(field_value(doc, c)) for c in cols])
        if i % 200 == 199:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()
