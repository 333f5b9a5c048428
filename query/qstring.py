"""The ``q`` query string (Lucene syntax as Kibana users type it), parsed by luqum into ``query.expr``.

luqum does the parsing (``parser.parse``) and resolves implicit operators (``UnknownOperationResolver``:
``foo bar`` means ``foo AND bar``); this module only gives each node its meaning here: which field
a name is (``query.fields.resolve``), which values a field kind accepts, and what is refused as too
costly (leading wildcards, regular expressions, fuzzy and proximity searches).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import threading

from luqum import tree
from luqum.exceptions import ParseError
from luqum.parser import parser
from luqum.utils import UnknownOperationResolver

from core.errors import QueryError
from query.expr import (
    Exists,
    Expr,
    Field,
    Kind,
    MatchAll,
    MatchNone,
    Not,
    Number,
    Range,
    Term,
    and_,
    or_,
)
from query.fields import TEXT_FIELDS, is_known, normalized, resolve
from query.text import one_word, tokens
from query.timerange import parse_time

MAX_QUERY_LENGTH = 4096
MAX_NODES = 200
LONG_LIMIT = 2.0**63  # mapped number fields are 64-bit integers (Elasticsearch long)

_parse_lock = threading.Lock()  # luqum's ply parser keeps state in module globals
_resolver = UnknownOperationResolver(resolve_to=tree.AndOperation)
_ESCAPED = re.compile(r"\\(.)")


def parse_query(q: str, now: dt.datetime | None = None) -> Expr:
    """The expression of a ``q`` string; an empty one matches everything."""
    return parse_query_names(q, now)[0]


def parse_query_names(q: str, now: dt.datetime | None = None) -> tuple[Expr, frozenset[str]]:
    """The expression of a ``q`` string and the names in it that are no ECS field nor a name the
    parsers map: they are looked up in the events as they are, and may be typos."""
    if not q.strip():
        return MatchAll(), frozenset()
    if len(q) > MAX_QUERY_LENGTH:
        raise QueryError(f"q is longer than {MAX_QUERY_LENGTH} characters")
    try:
        with _parse_lock:
            parsed = _resolver(parser.parse(q))
    except ParseError as exc:
        raise QueryError(f"q is not a valid query: {exc}") from None
    except Exception as exc:  # luqum raises plain errors on some inputs (e.g. lexer failures)
        raise QueryError(f"q is not a valid query: {exc}") from None
    translator = _Translator(now or dt.datetime.now(dt.UTC))
    return translator.node(parsed, None), frozenset(translator.unknown)


class _Translator:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.count = 0
        self.unknown: set[str] = set()

    def node(self, n: tree.Item, fields: list[Field] | None) -> Expr:
        self.count += 1
        if self.count > MAX_NODES:
            raise QueryError(f"q has more than {MAX_NODES} terms")
        if isinstance(n, tree.SearchField):
            if fields is not None:
                raise QueryError(f"nested field {n.name!r} inside another field")
            resolved = resolve(n.name)
            if not is_known(n.name):
                self.unknown.add(n.name)
            return self.node(n.expr, resolved)
        if isinstance(n, tree.Group | tree.FieldGroup):
            return self.node(n.expr, fields)
        if isinstance(n, tree.AndOperation):
            return and_(*(self.node(c, fields) for c in n.children))
        if isinstance(n, tree.OrOperation):
            return or_(*(self.node(c, fields) for c in n.children))
        if isinstance(n, tree.Not | tree.Prohibit):
            return _not(self.node(n.a, fields))
        if isinstance(n, tree.Plus):
            return self.node(n.a, fields)
        if isinstance(n, tree.Boost):
            return self.node(n.expr, fields)
        if isinstance(n, tree.Word):
            return self.value(fields, _unescape(n.value), wildcard=_has_wildcard(n.value))
        if isinstance(n, tree.Phrase):
            return self.value(fields, _unescape(n.value[1:-1]), wildcard=False)
        if isinstance(n, tree.Range):
            return self.range(fields, n.low, n.high, n.include_low, n.include_high)
        if isinstance(n, tree.From):
            return self.range(fields, n.a, None, n.include, True)
        if isinstance(n, tree.To):
            return self.range(fields, None, n.a, True, n.include)
        if isinstance(n, tree.Regex):
            raise QueryError(
                f"regular expressions are not supported ({n.value}); quote values with slashes, "
                'e.g. path:"/api/v1/users"'
            )
        if isinstance(n, tree.Fuzzy | tree.Proximity):
            raise QueryError(f"fuzzy and proximity searches are not supported ({n})")
        raise QueryError(f"unsupported query element {n!s}")

    def value(self, fields: list[Field] | None, value: str, wildcard: bool) -> Expr:
        targets = fields if fields is not None else list(TEXT_FIELDS)
        if wildcard and value == "*":
            return or_(*(Exists(f) for f in targets))
        if wildcard and value[:1] in ("*", "?"):
            raise QueryError(f"leading wildcards are too costly and not supported ({value!r})")
        matches: list[Expr] = []
        errors: list[str] = []
        for f in targets:
            try:
                matches.append(_match(f, value, wildcard, self.now))
            except QueryError as exc:
                errors.append(str(exc))
        if not matches:
            raise QueryError(errors[0])
        return or_(*matches)

    def range(self, fields: list[Field] | None, low: tree.Item, high: tree.Item, inc_lo: bool, inc_hi: bool) -> Expr:
        if fields is None:
            raise QueryError("a range needs a field, e.g. responseTime:[100 TO 500]")
        lo, hi = _bound(low), _bound(high)
        matches: list[Expr] = []
        errors: list[str] = []
        for f in fields:
            try:
                matches.append(Range(f, _coerce(f, lo, self.now), _coerce(f, hi, self.now), inc_lo, inc_hi))
            except QueryError as exc:
                errors.append(str(exc))
        if not matches:
            raise QueryError(errors[0])
        return or_(*matches)


def _not(e: Expr) -> Expr:
    if isinstance(e, MatchAll):
        return MatchNone()
    if isinstance(e, MatchNone):
        return MatchAll()
    return Not(e)


def _unescape(text: str) -> str:
    return _ESCAPED.sub(r"\1", text)


def _has_wildcard(raw: str) -> bool:
    """Unescaped ``*`` or ``?`` in a word."""
    return bool(re.search(r"(?<!\\)[*?]", raw))


def _bound(item: tree.Item | None) -> str | None:
    if item is None:
        return None
    text = _unescape(item.value[1:-1] if isinstance(item, tree.Phrase) else str(item.value))
    return None if text == "*" else text


def _number(field: Field, text: str) -> float:
    """A finite number; for a mapped number field, one its 64-bit integer column can hold.

    Elasticsearch refuses a ``long`` query value out of range (and ``1e308`` ms overflows to
    infinity in nanoseconds) while DuckDB would quietly match nothing: both answer this 422 instead.
    """
    try:
        value = float(text)
    except ValueError:
        raise QueryError(f"{field.name} takes a number, not {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise QueryError(f"{field.name} takes a finite number, not {text!r}")
    if field.kind is Kind.NUMBER and not -LONG_LIMIT <= value * field.scale < LONG_LIMIT:
        low, high = -LONG_LIMIT / field.scale, LONG_LIMIT / field.scale
        raise QueryError(f"{field.name} takes a number between {low:.4g} and {high:.4g}, not {text!r}")
    return value


def _coerce(field: Field, text: str | None, now: dt.datetime) -> float | dt.datetime | str | None:
    if text is None:
        return None
    if field.kind is Kind.NUMBER or field.kind is Kind.SOURCE:
        return _number(field, text)
    if field.kind is Kind.DATE:
        return parse_time(text, now)
    if field.kind is Kind.IP:
        raise QueryError(f"ranges over {field.name} are not supported; give one address")
    return normalized(field, text)


def _match(field: Field, value: str, wildcard: bool, now: dt.datetime) -> Expr:
    """``field:value`` for one field, by its kind."""
    if field.kind is Kind.NUMBER:
        if wildcard:
            raise QueryError(f"wildcards do not apply to the number field {field.name}")
        return Number(field, _number(field, value))
    if field.kind is Kind.DATE:
        t = parse_time(value, now)
        return Range(field, t, t)
    if field.kind is Kind.IP:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise QueryError(f"{field.name} takes an IP address, not {value!r}") from None
        return Term(field, value)
    if field.kind is Kind.TEXT:
        if not tokens(value.replace("*", "a").replace("?", "a") if wildcard else value):
            raise QueryError(f"{value!r} has no words to search {field.name} for")
        if wildcard and not one_word(value):
            raise QueryError(f"a wildcard word in {field.name} must be one word ({value!r})")
    return Term(field, normalized(field, value), wildcard)
