"""A rule compiled once: its selection as one ``query.expr`` tree, its group field, and what it measures.

``Rule.measure`` asks a backend (either: the measures are ``count_by`` and ``duration_values_by`` of
``query.backend.Backend``, answered alike by DuckDB and Elasticsearch) for one evaluation time and
returns a ``Measure`` per group. Everything that can be wrong with a rule is found by ``check_rule``
when the config loads, not at the first evaluation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from alerts.config import (
    CountRule,
    FlatlineRule,
    LatencyRule,
    NewValueRule,
    RatioRule,
    RuleConfig,
    Selection,
    SpikeRule,
)
from core.errors import QueryError
from query.expr import And, Exists, Expr, Field, Kind, MatchAll, Not, Number, Or, Range, Term, and_, or_
from query.fields import ALIASES, ECS_FIELDS, is_known, source_field
from query.filters import EndpointTemplater, Filters, build_filters
from query.results import quantile_cont

if TYPE_CHECKING:
    from query.backend import Backend

UTC = dt.UTC
TIMESTAMP = ECS_FIELDS["@timestamp"]
UNGROUPABLE = frozenset({"@timestamp", "event.duration", "event.ingested", "message", "error.message"})
FILTER_OF_FIELD = {
    "endpoint": "endpoint",
    "service.name": "service",
    "user.id": "user",
    "url.path": "path",
    "log.level": "level",
    "http.response.status_code": "status",
}
"""Group fields that have a filter parameter of their own in the page's URL (others go into ``q``)."""


@dataclass(frozen=True)
class Measure:
    """A rule's measure for one group at one time: the value compared, the events it stands on, and
    whether the condition holds."""

    value: float | None
    count: int
    active: bool


def check_rule(config: RuleConfig) -> None:
    """Refuse a rule that cannot run: a bad query or filter, an unknown field. Raises ``ValueError``
    naming the rule (pydantic reports it as a config error)."""
    try:
        Rule(config)
    except QueryError as exc:
        raise ValueError(f"alert rule {config.name!r}: {exc}") from None


def rule_field(rule: str, name: str, source_fields: tuple[str, ...]) -> Field:
    """The field ``group_by`` or ``field`` names: an ECS name or alias, or a listed source field."""
    if name in ECS_FIELDS:
        field = ECS_FIELDS[name]
    elif name in ALIASES:
        field = ECS_FIELDS[ALIASES[name]]
    elif name in source_fields:
        field = source_field(name)
    else:
        raise QueryError(
            f"unknown field {name!r}: use an ECS name ({', '.join(sorted(ECS_FIELDS))}), an alias, or list it "
            "in source_fields"
        )
    if field.name in UNGROUPABLE or field.array or field.kind in (Kind.TEXT, Kind.DATE):
        raise QueryError(f"field {name!r} cannot make groups (a time, a duration, free text or a list)")
    return field


def fields_of(expr: Expr) -> Iterator[Field]:
    """Every field an expression reads."""
    if isinstance(expr, And | Or):
        for item in expr.items:
            yield from fields_of(item)
    elif isinstance(expr, Not):
        yield from fields_of(expr.item)
    elif isinstance(expr, Term | Number | Range | Exists):
        yield expr.field


def selection_expr(
    rule: str, selection: Selection, source_fields: tuple[str, ...], templater: EndpointTemplater | None
) -> Expr:
    """The selection's filters as one expression; a field in ``q`` that is neither an ECS name, an alias
    nor listed in ``source_fields`` is refused (a typo would otherwise match nothing, silently)."""
    f = selection.filters()
    expr = build_filters(
        q=f["q"],
        level=f["level"],
        user=f["user"],
        endpoint=f["endpoint"],
        path=f["path"],
        status=f["status"],
        tag=f["tag"],
        service=f["service"],
        templater=templater,
    ).expr
    unknown = sorted(
        {
            f.name
            for f in fields_of(expr)
            if f.kind is Kind.SOURCE and not is_known(f.name) and f.name not in source_fields
        }
    )
    if unknown:
        raise QueryError(
            f"unknown field(s) {', '.join(map(repr, unknown))} in q: use ECS names or their aliases, or list "
            "source fields in source_fields"
        )
    return expr


def group_term(field: Field, value: Any) -> Expr:
    """The events of one group."""
    if field.kind is Kind.NUMBER:
        return Number(field, float(value))
    return Term(field, str(value))


class Rule:
    """A configured rule, compiled: evaluate it with ``measure`` at any time, on either backend."""

    def __init__(self, config: RuleConfig, templater: EndpointTemplater | None = None) -> None:
        self.config = config
        self.name = config.name
        self.kind = config.kind
        self.window = dt.timedelta(seconds=config.window)
        self.hold = dt.timedelta(seconds=config.for_)
        sources = config.source_fields
        self.expr = selection_expr(config.name, config, sources, templater)
        self.group: Field | None = rule_field(config.name, config.group_by, sources) if config.group_by else None
        self.numerator: Expr = MatchAll()
        if isinstance(config, RatioRule):
            self.numerator = selection_expr(config.name, config.numerator, sources, templater)
        if isinstance(config, NewValueRule):
            self.group = rule_field(config.name, config.field, sources)
        self.group_label = _label_name(self.group.name) if self.group is not None else None
        self._measure: Callable[[Backend, dt.datetime], dict[Any, Measure]] = {
            "count": self._count,
            "ratio": self._ratio,
            "latency": self._latency,
            "flatline": self._flatline,
            "spike": self._spike,
            "new_value": self._new_value,
        }[config.kind]

    @property
    def threshold(self) -> float:
        c = self.config
        if isinstance(c, LatencyRule):
            return c.threshold_ms
        if isinstance(c, SpikeRule):
            return c.factor
        return float(c.threshold) if isinstance(c, CountRule | RatioRule | FlatlineRule) else 0.0

    def measure(self, backend: Backend, at: dt.datetime) -> dict[str, Measure]:
        """Each group's measure over the window ending at ``at``, keyed by the group's label value
        (``""`` for an ungrouped rule). A group missing from the answer is not active."""
        return {"" if k is None else _label_value(k): m for k, m in self._measure(backend, at).items()}

    # -- the kinds -------------------------------------------------------------------------------

    def _filters(self, start: dt.datetime, end: dt.datetime, *extra: Expr) -> Filters:
        return Filters(start, end, and_(self.expr, *extra))

    def _count(self, backend: Backend, at: dt.datetime) -> dict[Any, Measure]:
        assert isinstance(self.config, CountRule)
        rows = backend.count_by(self._filters(at - self.window, at), self.group, [MatchAll()], self.config.max_groups)
        return {k: Measure(float(n), n, n > self.config.threshold) for k, (n,) in rows.items()}

    def _ratio(self, backend: Backend, at: dt.datetime) -> dict[Any, Measure]:
        c = self.config
        assert isinstance(c, RatioRule)
        f = self._filters(at - self.window, at)
        rows = backend.count_by(f, self.group, [MatchAll(), self.numerator], c.max_groups)
        out = {}
        for k, (total, part) in rows.items():
            value = part / total if total else None
            out[k] = Measure(value, total, total >= c.min_count and value is not None and value > c.threshold)
        return out

    def _latency(self, backend: Backend, at: dt.datetime) -> dict[Any, Measure]:
        c = self.config
        assert isinstance(c, LatencyRule)
        out = {}
        values = backend.duration_values_by(self._filters(at - self.window, at), self.group, c.max_groups)
        for k, pairs in values.items():
            count = sum(n for _, n in pairs)
            value = quantile_cont(pairs, c.percentile / 100)
            out[k] = Measure(value, count, count >= c.min_count and value is not None and value > c.threshold_ms)
        return out

    def _flatline(self, backend: Backend, at: dt.datetime) -> dict[Any, Measure]:
        c = self.config
        assert isinstance(c, FlatlineRule)
        window = Range(TIMESTAMP, at - self.window, at, True, False)
        if self.group is None:
            rows = backend.count_by(self._filters(at - self.window, at), None, [MatchAll()], 1)
            n = rows.get(None, [0])[0]
            return {None: Measure(float(n), n, n < c.threshold)}
        start = at - max(self.window, dt.timedelta(seconds=c.lookback))
        rows = backend.count_by(self._filters(start, at), self.group, [MatchAll(), window], c.max_groups)
        return {k: Measure(float(n), n, n < c.threshold) for k, (_, n) in rows.items()}

    def _spike(self, backend: Backend, at: dt.datetime) -> dict[Any, Measure]:
        c = self.config
        assert isinstance(c, SpikeRule)
        middle = at - self.window
        before = Range(TIMESTAMP, middle - self.window, middle, True, False)
        now = Range(TIMESTAMP, middle, at, True, False)
        rows = backend.count_by(self._filters(middle - self.window, at), self.group, [before, now], c.max_groups)
        out = {}
        for k, (prev, cur) in rows.items():
            value = cur / prev if prev else None
            out[k] = Measure(value, cur, cur >= c.min_count and cur > c.factor * prev)
        return out

    def _new_value(self, backend: Backend, at: dt.datetime) -> dict[Any, Measure]:
        c = self.config
        assert isinstance(c, NewValueRule) and self.group is not None
        start = at - self.window
        seen_now = backend.count_by(self._filters(start, at), self.group, [MatchAll()], c.max_groups)
        if not seen_now:
            return {}
        candidates = or_(*(group_term(self.group, k) for k in seen_now))
        earlier = self._filters(start - dt.timedelta(seconds=c.lookback), start, candidates)
        seen_before = backend.count_by(earlier, self.group, [MatchAll()], len(seen_now))
        return {k: Measure(float(n), n, True) for k, (n,) in seen_now.items() if k not in seen_before}

    # -- what a notification shows ---------------------------------------------------------------

    def sample_filters(self, at: dt.datetime, group: str) -> Filters:
        """The events behind an alert: the selection (and the numerator), in the window, of its group."""
        extra: list[Expr] = [self.numerator]
        if self.group is not None:
            extra.append(group_term(self.group, group))
        return self._filters(at - self.window, at, *extra)

    def search_params(self, at: dt.datetime, group: str) -> dict[str, str]:
        """The page's URL state (the API's filter names) that shows the lines of an alert."""
        params: dict[str, str] = {k: v for k, v in self.config.filters().items() if v}
        if isinstance(self.config, RatioRule):
            for k, v in self.config.numerator.filters().items():
                if v and k == "q" and params.get("q"):
                    params["q"] = f"({params['q']}) AND ({v})"
                elif v:
                    params[k] = v
        if self.group is not None:
            param = FILTER_OF_FIELD.get(self.group.name)
            if param is not None and param not in params:
                params[param] = group
            else:
                term = f'{self.group.name}:"{_escaped(group)}"'
                params["q"] = f"({params['q']}) AND {term}" if params.get("q") else term
        start = at - self.window
        return {"q": params.pop("q", ""), "from": _iso(start), "to": _iso(at), **params}

    def search_url(self, base: str, at: dt.datetime, group: str) -> str:
        params = {k: v for k, v in self.search_params(at, group).items() if v}
        return f"{base.rstrip('/')}/?{urlencode(params)}"

    def labels(self, group: str) -> dict[str, str]:
        """The alert's labels: its name, the rule's labels and its group (never values that vary)."""
        labels = {"alertname": self.name, **self.config.labels}
        if self.group_label is not None:
            labels[self.group_label] = group
        return labels


def _label_name(field: str) -> str:
    """A Prometheus label name for a field (``service.name`` → ``service_name``)."""
    return "".join(c if c.isalnum() or c == "_" else "_" for c in field).lstrip("0123456789") or "group"


def _label_value(key: Any) -> str:
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    return str(key)


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _iso(t: dt.datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
