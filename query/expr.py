"""A small backend-neutral filter expression: the query string and every filter parameter become one.

Both backends compile the same tree (``query/sql.py`` to DuckDB SQL, ``query/dsl.py`` to the
Elasticsearch query DSL), so "the same request gives the same answer" is decided in one place:
which field a name means and how a value is matched.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    """How values of a field are matched; decides the SQL expression and the ES query type."""

    KEYWORD = "keyword"  # exact, case-sensitive; wildcards allowed
    TEXT = "text"  # analysed words (message): word and phrase match, case-insensitive
    NUMBER = "number"  # integers or floats: equality and ranges
    DATE = "date"
    IP = "ip"
    SOURCE = "source"  # an unmapped source field: string or number, decided per event


@dataclass(frozen=True)
class Field:
    """One searchable field: its ECS name, how it is matched, and where each backend finds it."""

    name: str  # ECS / document path (dotted); the ES field
    kind: Kind
    sql: str  # DuckDB expression over the ``events`` table
    array: bool = False  # tags: a match on any element
    scale: float = 1.0  # query value x scale = stored ES value (ms given, ns stored)
    sql_scale: float = 1.0  # query value x sql_scale = the SQL column's value
    case: str = ""  # "lower" / "upper": values are normalised like the processors do


@dataclass(frozen=True)
class Term:
    """``field:value``; ``wildcard`` when ``*``/``?`` in an unquoted value are patterns."""

    field: Field
    value: str
    wildcard: bool = False


@dataclass(frozen=True)
class Number:
    """Numeric equality (``status:500``, ``responseTime:2000``)."""

    field: Field
    value: float


@dataclass(frozen=True)
class Range:
    """``[lo TO hi]``, ``{lo TO hi}``, ``>x``, ``<=x``; ``None`` is open. Bounds are numbers,
    datetimes or strings depending on the field kind."""

    field: Field
    lo: float | dt.datetime | str | None
    hi: float | dt.datetime | str | None
    include_lo: bool = True
    include_hi: bool = True


@dataclass(frozen=True)
class Exists:
    field: Field


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class Not:
    item: Expr


@dataclass(frozen=True)
class MatchAll:
    pass


@dataclass(frozen=True)
class MatchNone:
    pass


Expr = Term | Number | Range | Exists | And | Or | Not | MatchAll | MatchNone


def and_(*items: Expr) -> Expr:
    """Conjunction that drops match-alls and collapses to one item where it can."""
    kept = tuple(i for i in items if not isinstance(i, MatchAll))
    if any(isinstance(i, MatchNone) for i in kept):
        return MatchNone()
    if not kept:
        return MatchAll()
    return kept[0] if len(kept) == 1 else And(kept)


def or_(*items: Expr) -> Expr:
    """Disjunction that drops match-nones and collapses to one item where it can."""
    kept = tuple(i for i in items if not isinstance(i, MatchNone))
    if any(isinstance(i, MatchAll) for i in kept):
        return MatchAll()
    if not kept:
        return MatchNone()
    return kept[0] if len(kept) == 1 else Or(kept)
