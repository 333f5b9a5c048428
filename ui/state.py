"""The page's state is its URL: the API's filter parameters (same names, same meaning) plus the page's own.

Helpers here turn the query string into filters, and a click (a field value, a zoom, a page) into the
next query string, so every link the page draws is a URL someone can share and Back can return to.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from core.timefmt import iso_ms
from query.filters import FILTER_PARAMS

FILTER_NAMES = tuple(p.name for p in FILTER_PARAMS)
PAGE_SIZE = "size"  # the API's page-size parameter of /api/v1/events
PAGE_PARAMS = ("columns", PAGE_SIZE, "cursor")
DEFAULT_COLUMNS = ("@timestamp", "log.level", "service.name", "endpoint", "http.response.status_code", "message")
DEFAULT_PAGE_SIZE = 100
# A field whose values a filter parameter takes exactly: "include" sets the parameter.
FIELD_FILTERS = {
    "log.level": "level",
    "service.name": "service",
    "user.id": "user",
    "endpoint": "endpoint",
    "url.path": "path",
    "http.response.status_code": "status",
    "tags": "tag",
}
UNFILTERABLE = frozenset({"@timestamp", "event.ingested", "event.id", "log.offset", "error.stack_trace"})
QUICK_RANGES = (("15m", "15 minutes"), ("1h", "1 hour"), ("24h", "24 hours"), ("7d", "7 days"), ("30d", "30 days"))


class State:
    """The page's query string, read once; every ``with_`` method gives the query string of a changed copy."""

    def __init__(self, params: Mapping[str, str]) -> None:
        self.params = {k: v for k, v in params.items() if v != ""}

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name, default)

    @property
    def filters(self) -> dict[str, str | None]:
        return {name: self.params.get(name) for name in FILTER_NAMES}

    @property
    def columns(self) -> tuple[str, ...]:
        text = self.params.get("columns")
        if not text:
            return DEFAULT_COLUMNS
        return tuple(c.strip() for c in text.split(",") if c.strip())[:30] or DEFAULT_COLUMNS

    def query(self, **changes: str | None) -> str:
        """The query string with ``changes`` (None removes); a change of what matches starts at page one."""
        params = dict(self.params)
        if any(k in FILTER_NAMES for k in changes):
            params.pop("cursor", None)
        for key, value in changes.items():
            key = {"from_": "from"}.get(key, key)
            if value is None or value == "":
                params.pop(key, None)
            else:
                params[key] = value
        return urllib.parse.urlencode(params)

    def filters_query(self) -> str:
        """Only the filters: what a link to another view carries over."""
        return urllib.parse.urlencode({k: v for k, v in self.params.items() if k in FILTER_NAMES})

    def with_range(self, start: str, end: str | None) -> str:
        return self.query(from_=start, to=end)

    def with_value(self, field: str, value: Any, include: bool) -> str:
        """Include: the filter parameter of the field when it has one and is free, else ``field:"value"`` in q.
        Exclude: ``NOT field:"value"`` in q."""
        param = FIELD_FILTERS.get(field)
        if include and param and not self.params.get(param):
            return self.query(**{param: str(value)})
        term = f"{field}:{lucene_value(value)}"
        return self.query(q=and_q(self.params.get("q"), term if include else f"NOT {term}"))

    def search_with(self, clause: str) -> str:
        """The search view's query string for the events of these filters that ``clause`` also matches:
        the filters only (no other view's parameters), ``clause`` joined to ``q``."""
        params = {k: v for k, v in self.params.items() if k in FILTER_NAMES}
        if clause:
            params["q"] = and_q(params.get("q"), clause)
        return urllib.parse.urlencode(params)

    def with_columns(self, columns: Sequence[str]) -> str:
        chosen = tuple(columns)
        return self.query(columns=None if chosen == DEFAULT_COLUMNS else ",".join(chosen))

    def hidden(self, *skip: str) -> list[tuple[str, str]]:
        """The state as hidden form fields, but those the form sets itself."""
        return [(k, v) for k, v in self.params.items() if k not in skip]


def and_q(q: str | None, clause: str) -> str:
    """``q AND clause``, with ``q`` in parentheses when it has an OR (AND binds first)."""
    if not q:
        return clause
    return f"({q}) AND {clause}" if " OR " in q.upper() else f"{q} AND {clause}"


def lucene_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def iso(t: dt.datetime) -> str:
    return iso_ms(t)
