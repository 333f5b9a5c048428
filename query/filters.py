"""The filter parameters every endpoint shares, validated once into one ``query.expr`` tree.

``FilterQuery`` is the one list of them: the API's query parameters (``query/api_params.py`` declares the
model as a query dependency) and, through ``FILTER_PARAMS``, the options of ``logferry search`` and
``logferry stats errors`` (``logferry/commands/query.py``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from core.errors import QueryError
from core.schema import ERROR_LEVELS
from query.expr import Exists, Expr, MatchAll, Number, Range, Term, and_, or_
from query.fields import ECS_FIELDS, LEVEL_VALUES
from query.qstring import parse_query_names
from query.timerange import time_range

LEVELS = ("trace", "debug", "info", "warn", "error", "fatal", "critical")
_STATUS = re.compile(r"^(?:(\d{3})|([1-5])xx|(\d{3})-(\d{3}))$", re.IGNORECASE)

F = ECS_FIELDS

# "An error": logged at error level or worse (tag_error's levels, core.schema), carrying an error type, or a 5xx.
ERROR_EXPR: Expr = or_(
    *(Term(F["log.level"], lvl) for lvl in ERROR_LEVELS),
    Exists(F["error.type"]),
    Range(F["http.response.status_code"], 500.0, None),
)

EndpointTemplater = Callable[[str], str | None]


@dataclass(frozen=True)
class Filters:
    """A validated request: the time range plus one expression for everything else, and the names ``q``
    looks up in the events as they are (no ECS field nor a name the parsers map: maybe a typo)."""

    start: dt.datetime
    end: dt.datetime
    expr: Expr
    source_names: frozenset[str] = frozenset()


class FilterQuery(BaseModel):
    """Every filter: the field is the ``build_filters`` keyword, its alias the API parameter and CLI option.

    A model, so FastAPI reads it as query parameters (with these descriptions in OpenAPI) and mypy sees
    the fields; adding one here adds it to every endpoint and both query commands at once.
    """

    model_config = ConfigDict(frozen=True)

    start: str | None = Field(None, alias="from", description="ISO 8601 or relative (now-1h); default now-24h.")
    end: str | None = Field(None, alias="to", description="ISO 8601 or relative (now-5m); default now.")
    level: str | None = Field(None, description="A level or a comma-separated list (warn,error).")
    user: str | None = Field(None, description="user.id, exactly.")
    endpoint: str | None = Field(
        None, description="Templated route (/api/v1/users/{id}); a concrete path is templated first."
    )
    path: str | None = Field(None, description="url.path, exactly (not templated).")
    status: str | None = Field(
        None, description="HTTP status: a code (500), a class (5xx, any case) or a range (400-599)."
    )
    tag: str | None = Field(None, description="A tag the pipeline set, e.g. slow_request or error.")
    service: str | None = Field(None, description="service.name, exactly.")
    q: str | None = Field(None, description="Lucene query string, e.g. level:error AND userId:u1.")


@dataclass(frozen=True)
class FilterParam:
    """One filter: ``name`` is the API query parameter and the CLI option, ``arg`` the ``build_filters`` keyword."""

    name: str
    arg: str
    help: str


FILTER_PARAMS: tuple[FilterParam, ...] = tuple(
    FilterParam(field.alias or arg, arg, field.description or "") for arg, field in FilterQuery.model_fields.items()
)


def filters_from_params(
    values: Mapping[str, str | None], templater: EndpointTemplater | None = None, now: dt.datetime | None = None
) -> Filters:
    """``build_filters`` over parameters named as the API and the CLI name them (``from``, ``to``, …)."""
    return build_filters(**{p.arg: values.get(p.name) for p in FILTER_PARAMS}, templater=templater, now=now)


def build_filters(
    *,
    start: str | None = None,
    end: str | None = None,
    level: str | None = None,
    user: str | None = None,
    endpoint: str | None = None,
    path: str | None = None,
    status: str | None = None,
    tag: str | None = None,
    service: str | None = None,
    q: str | None = None,
    templater: EndpointTemplater | None = None,
    now: dt.datetime | None = None,
) -> Filters:
    """Every filter, checked; a wrong value raises ``QueryError`` naming the parameter."""
    now = now or dt.datetime.now(dt.UTC)
    t_start, t_end = time_range(start, end, now)
    parts: list[Expr] = []
    if level:
        parts.append(or_(*(Term(F["log.level"], lvl) for lvl in parse_levels(level))))
    if user:
        parts.append(Term(F["user.id"], user))
    if endpoint:
        parts.append(endpoint_expr(endpoint, templater))
    if path:
        parts.append(Term(F["url.path"], path))
    if status:
        parts.append(status_expr(status))
    if tag:
        parts.append(Term(F["tags"], tag))
    if service:
        parts.append(Term(F["service.name"], service))
    names: frozenset[str] = frozenset()
    if q:
        expr, names = parse_query_names(q, now)
        parts.append(expr)
    return Filters(t_start, t_end, and_(*parts) if parts else MatchAll(), names)


def parse_levels(text: str) -> list[str]:
    """``error`` or ``warn,error``; each must be a known level."""
    levels = []
    for raw in text.split(","):
        name = raw.strip().lower()
        name = LEVEL_VALUES.get(name, name)
        if name not in LEVELS:
            raise QueryError(f"level {raw.strip()!r} is not one of {', '.join(LEVELS)}")
        levels.append(name)
    return levels


def status_expr(text: str) -> Expr:
    """``500``, ``5xx`` or ``400-599`` over ``http.response.status_code``."""
    m = _STATUS.match(text.strip())
    if not m:
        raise QueryError(f"status {text!r} is not a code (500), a class (5xx) or a range (400-599)")
    code, klass, lo, hi = m.groups()
    field = F["http.response.status_code"]
    if code:
        return Number(field, float(code))
    if klass:
        return Range(field, float(int(klass) * 100), float(int(klass) * 100 + 99))
    if int(lo) > int(hi):
        raise QueryError(f"status range {text!r} runs backwards")
    return Range(field, float(lo), float(hi))


def endpoint_expr(value: str, templater: EndpointTemplater | None) -> Expr:
    """The templated route; a concrete path is templated the way the pipeline does it first."""
    candidates = {value}
    if templater is not None and "{" not in value:
        templated = templater(value)
        if templated:
            candidates.add(templated)
    return or_(*(Term(F["endpoint"], c) for c in sorted(candidates)))
