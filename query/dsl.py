"""``query.expr`` → an Elasticsearch query (bool/term/range/wildcard/match_phrase/exists).

Mappings come from ``elastic/templates.py``: unmapped source fields are ``keyword``
with a ``<name>.num`` double sub-field, so a field that is a number in one event and a string in
another matches by string equality and by numeric range alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.timefmt import iso_ms
from query.expr import And, Exists, Expr, Field, Kind, MatchAll, MatchNone, Not, Number, Or, Range, Term

NUMERIC_SUBFIELD = "num"
EXACT_INTEGERS = 2.0**53  # beyond, a float's integer value is not the number typed; send the float


def compile_dsl(expr: Expr) -> dict[str, Any]:
    """The query clause of ``expr``."""
    if isinstance(expr, MatchAll):
        return {"match_all": {}}
    if isinstance(expr, MatchNone):
        return {"match_none": {}}
    if isinstance(expr, And):
        return {"bool": {"filter": [compile_dsl(i) for i in expr.items]}}
    if isinstance(expr, Or):
        return {"bool": {"should": [compile_dsl(i) for i in expr.items], "minimum_should_match": 1}}
    if isinstance(expr, Not):
        return {"bool": {"must_not": [compile_dsl(expr.item)]}}
    if isinstance(expr, Exists):
        return {"exists": {"field": expr.field.name}}
    if isinstance(expr, Number):
        return {"term": {_numeric_field(expr.field): _number(expr.field, expr.value)}}
    if isinstance(expr, Range):
        bounds: dict[str, Any] = {}
        if expr.lo is not None:
            bounds["gte" if expr.include_lo else "gt"] = _bound(expr.field, expr.lo)
        if expr.hi is not None:
            bounds["lte" if expr.include_hi else "lt"] = _bound(expr.field, expr.hi)
        if not bounds:
            return {"exists": {"field": expr.field.name}}
        return {"range": {_numeric_field(expr.field): bounds}}
    if isinstance(expr, Term):
        f = expr.field
        if f.kind is Kind.TEXT:
            if expr.wildcard:
                return {"wildcard": {f.name: {"value": expr.value.lower()}}}
            return {"match_phrase": {f.name: expr.value}}
        if expr.wildcard:
            return {"wildcard": {f.name: {"value": expr.value}}}
        return {"term": {f.name: expr.value}}
    raise TypeError(f"not an expression: {expr!r}")


def _numeric_field(field: Field) -> str:
    return f"{field.name}.{NUMERIC_SUBFIELD}" if field.kind is Kind.SOURCE else field.name


def _number(field: Field, value: float) -> float | int:
    """An integer where the float is one exactly (a ``long`` field wants ``500``, not ``500.0``)."""
    scaled = value * field.scale
    return int(scaled) if scaled.is_integer() and abs(scaled) < EXACT_INTEGERS else scaled


def _bound(field: Field, value: float | dt.datetime | str) -> Any:
    if isinstance(value, dt.datetime):
        return iso_ms(value)
    if isinstance(value, float):
        return _number(field, value)
    return value
