"""``query.expr`` → a DuckDB ``WHERE`` clause with ``?`` parameters, over the ``events`` table.

A missing field makes a leaf NULL, which ``WHERE`` treats as false, like a non-matching query in
Elasticsearch; only under ``NOT`` would NULL stay NULL, so ``NOT`` wraps its operand in
``coalesce(..., false)`` and ``must_not`` semantics hold (missing field → ``NOT`` is true).
Text is matched as Elasticsearch's standard analyzer matches it: whole words (``query/text.py`` says
where a word ends), case-insensitive, a phrase's words one after another.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from query.expr import And, Exists, Expr, Field, Kind, MatchAll, MatchNone, Not, Number, Or, Range, Term
from query.text import phrase_pattern, wildcard_pattern


def compile_sql(expr: Expr) -> tuple[str, list[Any]]:
    """The SQL condition of ``expr`` and its parameters, in order."""
    params: list[Any] = []
    return _sql(expr, params), params


def _sql(e: Expr, params: list[Any]) -> str:
    if isinstance(e, MatchAll):
        return "true"
    if isinstance(e, MatchNone):
        return "false"
    if isinstance(e, And):
        return "(" + " AND ".join(_sql(i, params) for i in e.items) + ")"
    if isinstance(e, Or):
        fields = {i.field for i in e.items if isinstance(i, Term)}
        if len(fields) == 1 and all(isinstance(i, Term) and _plain(i) for i in e.items):
            (field,) = fields
            params.extend(i.value for i in e.items if isinstance(i, Term))
            return f"({field.sql} IN ({', '.join('?' * len(e.items))}))"
        return "(" + " OR ".join(_sql(i, params) for i in e.items) + ")"
    if isinstance(e, Not):
        return f"(NOT coalesce({_sql(e.item, params)}, false))"
    if isinstance(e, Exists):
        if e.field.array:
            return f"(len({e.field.sql}) > 0)"
        if e.field.kind is Kind.SOURCE:
            return f"({e.field.sql.replace('json_extract_string', 'json_extract')} IS NOT NULL)"
        return f"({e.field.sql} IS NOT NULL)"
    if isinstance(e, Number):
        return _compare(e.field, "=", e.value, params)
    if isinstance(e, Range):
        parts = []
        if e.lo is not None:
            parts.append(_compare(e.field, ">=" if e.include_lo else ">", e.lo, params))
        if e.hi is not None:
            parts.append(_compare(e.field, "<=" if e.include_hi else "<", e.hi, params))
        if not parts:
            return _sql(Exists(e.field), params)
        return "(" + " AND ".join(parts) + ")"
    if isinstance(e, Term):
        return _term(e, params)
    raise TypeError(f"not an expression: {e!r}")


def _compare(field: Field, op: str, value: float | dt.datetime | str, params: list[Any]) -> str:
    if field.kind is Kind.SOURCE:
        params.append(value)
        return f"(TRY_CAST({field.sql} AS DOUBLE) {op} ?)"
    if isinstance(value, float):
        params.append(value * field.sql_scale)
    else:
        params.append(value)
    return f"({field.sql} {op} ?)"


def _like(pattern: str) -> str:
    escaped = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped.replace("*", "%").replace("?", "_")


def _text_regex(value: str, wildcard: bool) -> str:
    """Words of ``value`` in order, as whole words the way Elasticsearch's standard analyzer cuts them,
    case-insensitive (a phrase match; see ``query/text.py``)."""
    if wildcard:
        return wildcard_pattern(value)
    pattern = phrase_pattern(value)
    return pattern if pattern is not None else r"\b\B"  # no word: matches nothing (qstring refuses it anyway)


def _term(e: Term, params: list[Any]) -> str:
    f = e.field
    if f.kind is Kind.TEXT:
        params.append(_text_regex(e.value, e.wildcard))
        return f"regexp_matches({f.sql}, ?)"
    if f.array:
        if e.wildcard:
            params.append(_like(e.value))
            return f"(len(list_filter({f.sql}, x -> x LIKE ? ESCAPE '\\')) > 0)"
        params.append(e.value)
        return f"list_contains({f.sql}, ?)"
    if e.wildcard:
        params.append(_like(e.value))
        return f"({f.sql} LIKE ? ESCAPE '\\')"
    params.append(e.value)
    return f"({f.sql} = ?)"


def _plain(t: Term) -> bool:
    """A term that is plain SQL equality (so several of them on one field make an ``IN``)."""
    return not t.wildcard and not t.field.array and t.field.kind is not Kind.TEXT
