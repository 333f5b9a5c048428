"""What both backends share after their query ran: cursors, bucket filling, top-N and percentiles.

Each backend returns raw partial counts; the answer is assembled here, once, so that empty
buckets, the "other" series and tie order cannot differ between DuckDB and Elasticsearch.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from core.errors import LogferryError, QueryError
from core.timefmt import iso_ms
from query.expr import Range, Term, and_
from query.fields import ECS_FIELDS
from query.filters import Filters
from query.timerange import EARLIEST, EPOCH, LATEST, parse_time

OTHER = "other"
MISSING = "missing"
BY_FIELDS = ("endpoint", "user", "service", "error.type", "status_class")
TOP_FIELDS = ("endpoint", "user", "error.type", "service", "status")
PERCENTS = (50.0, 95.0, 99.0)
LATENCY_SORTS = ("count", "p50", "p95", "p99", "max", "slow")
LEVEL_SERIES = 20  # the histogram stacks this many levels; events of the rest (or none) are "other"
CONTEXT_WINDOW = dt.timedelta(days=1)  # context lines are looked for this far either side of the event
BAD_CURSOR = "cursor is not valid; pass the 'next' value of a previous page"
CURSOR_MIN = (EARLIEST - EPOCH) // dt.timedelta(microseconds=1)
CURSOR_MAX = (LATEST - EPOCH) // dt.timedelta(microseconds=1)


class BackendUnavailable(LogferryError):
    """The store cannot be read right now (server down, file locked by another process)."""

    retriable = True


class QueryTimeout(LogferryError):
    """A query ran longer than the configured timeout and was stopped."""

    retriable = True


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    """``[time, event id]`` as ``encode_cursor`` wrote it; anything else is a ``QueryError``.

    The time is epoch microseconds (DuckDB) or milliseconds (Elasticsearch); either way it must lie
    within the datetimes a query can name, so a crafted ``[2**63-1, "x"]`` cannot overflow later.
    """
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise QueryError(BAD_CURSOR) from None
    if not isinstance(values, list) or len(values) != 2:
        raise QueryError(BAD_CURSOR)
    at, event_id = values
    if type(at) is not int or not CURSOR_MIN <= at <= CURSOR_MAX or type(event_id) is not str:
        raise QueryError(BAD_CURSOR)
    return values


def bucket_starts(start: dt.datetime, end: dt.datetime, width_ms: int) -> list[int]:
    """Epoch-aligned bucket starts (ms) covering ``[start, end)``."""
    first = int(start.timestamp() * 1000) // width_ms * width_ms
    end_ms = math.ceil(end.timestamp() * 1000)
    return list(range(first, end_ms, width_ms))


def rank(counts: dict[Any, int], n: int) -> list[tuple[Any, int]]:
    """Top ``n`` by count, ties by key: the order both backends' terms aggregations use."""
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def assemble_buckets(
    interval: str,
    starts: list[int],
    totals: dict[int, int],
    series: dict[int, dict[str, int]] | None,
    keys: list[str] | None,
    missing: dict[int, int] | None = None,
) -> dict[str, Any]:
    """``{"interval", "buckets": [{"start", "count", "series"}]}`` with empty buckets as 0.

    ``series`` holds the counts of the top ``keys`` per bucket and ``missing``, when given, those of
    events without the key (a series of its own); the rest of a bucket is "other".
    """
    out = []
    for b in starts:
        count = totals.get(b, 0)
        named: dict[str, int] = {}
        if keys is not None:
            per = (series or {}).get(b, {})
            named = {k: per.get(k, 0) for k in keys}
            none = (missing or {}).get(b, 0)
            named[OTHER] = count - sum(named.values()) - none
            if missing is not None:
                named[MISSING] = none
        out.append({"start": iso_ms(dt.datetime.fromtimestamp(b / 1000, dt.UTC)), "count": count, "series": named})
    return {"interval": interval, "buckets": out}


def quantile_cont(values: list[tuple[float, int]], p: float) -> float | None:
    """Linear-interpolated quantile of sorted (value, count) pairs (DuckDB's ``quantile_cont``)."""
    n = sum(c for _, c in values)
    if n == 0:
        return None
    pos = (n - 1) * p
    lo_i, hi_i = math.floor(pos), math.ceil(pos)
    lo_v = hi_v = None
    seen = 0
    for v, c in values:
        if lo_v is None and lo_i < seen + c:
            lo_v = v
        if hi_i < seen + c:
            hi_v = v
            break
        seen += c
    assert lo_v is not None and hi_v is not None
    return lo_v + (hi_v - lo_v) * (pos - lo_i)


def latency_stats(
    count: int, pcts: Iterable[float | None], max_ms: float | None, slow: int, *, exact: bool = True
) -> dict[str, Any]:
    p50, p95, p99 = (None if v is None else round(v, 3) for v in pcts)
    return {
        "count": count,
        "p50": p50,
        "p95": p95,
        "p99": p99,
        "max": None if max_ms is None else round(max_ms, 3),
        "slow": slow,
        "exact": exact,
    }


def latency_answer(
    rows: Iterable[tuple[Any, float | None, int, int]], by: str | None, limit: int, sort: str = "count"
) -> dict[str, Any]:
    """Duration statistics from ``(key, duration ms or None, events, slow events)`` rows, exact: both
    backends read these rows (DuckDB by GROUP BY, Elasticsearch by a composite aggregation).

    The series are the ``limit`` keys with most events (``sort="count"``) or with the highest ``sort``
    figure among all keys (``p95``: the slowest), ties by key; keys without durations come last.
    """
    values: dict[Any, dict[float, int]] = defaultdict(lambda: defaultdict(int))
    slow: dict[Any, int] = defaultdict(int)
    events: dict[Any, int] = defaultdict(int)
    for k, ms, n, s in rows:
        events[k] += n
        slow[k] += s
        if ms is not None:
            values[k][ms] += n

    def stats(keys: list[Any]) -> dict[str, Any]:
        merged: dict[float, int] = defaultdict(int)
        for k in keys:
            for v, n in values.get(k, {}).items():
                merged[v] += n
        pairs = sorted(merged.items())
        return latency_stats(
            sum(n for _, n in pairs),
            (quantile_cont(pairs, p / 100) for p in PERCENTS),
            pairs[-1][0] if pairs else None,
            sum(slow[k] for k in keys),
        )

    out: dict[str, Any] = {"overall": stats(list(events)), "by": by, "series": []}
    if by:
        keyed = {k: n for k, n in events.items() if k is not None}
        if sort == "count":
            out["series"] = [{"key": k, **stats([k])} for k, _ in rank(keyed, limit)]
        else:
            out["series"] = rank_series([{"key": k, **stats([k])} for k in keyed], sort, limit)
    return out


def rank_series(series: list[dict[str, Any]], sort: str, limit: int) -> list[dict[str, Any]]:
    """The ``limit`` series with the highest ``sort`` figure, ties by key, those without one last."""
    return sorted(series, key=lambda s: (s[sort] is None, -(s[sort] or 0), s["key"]))[:limit]


def field_value(doc: dict[str, Any], dotted: str) -> Any:
    """The value of a dotted name in a stored document (nested objects, as the sinks write them)."""
    node: Any = doc
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def context_source(doc: dict[str, Any]) -> dict[str, Any] | None:
    """Where an event was read: ``host.name``, ``log.file.path`` and ``log.offset``; None when one is missing."""
    found = {name: field_value(doc, name) for name in ("host.name", "log.file.path", "log.offset")}
    if not isinstance(found["host.name"], str) or not isinstance(found["log.file.path"], str):
        return None
    if type(found["log.offset"]) is not int:
        return None
    return found


def context_answer(
    doc: dict[str, Any] | None, lines: Callable[[Filters, bool], list[dict[str, Any]]]
) -> dict[str, Any] | None:
    """The context of ``doc``: ``lines(filters, before)`` gives a side's documents nearest first."""
    if doc is None:
        return None
    source = context_source(doc)
    if source is None:
        return {"event": doc, "source": None, "before": [], "after": []}
    sides = context_filters(doc, source)
    return {
        "event": doc,
        "source": source,
        "before": lines(sides["before"], True)[::-1],
        "after": lines(sides["after"], False),
    }


def context_filters(doc: dict[str, Any], source: dict[str, Any]) -> dict[str, Filters]:
    """The lines before and after an event in its file: same host and path, a lower / higher offset,
    within ``CONTEXT_WINDOW`` of its time (so a query touches three days at most)."""
    at = parse_time(str(doc["@timestamp"]), dt.datetime.now(dt.UTC))
    same = and_(
        Term(ECS_FIELDS["host.name"], source["host.name"]), Term(ECS_FIELDS["log.file.path"], source["log.file.path"])
    )
    offset = ECS_FIELDS["log.offset"]
    start, end = max(EARLIEST, at - CONTEXT_WINDOW), min(LATEST, at + CONTEXT_WINDOW)
    return {
        "before": Filters(start, end, and_(same, Range(offset, None, float(source["log.offset"]), include_hi=False))),
        "after": Filters(start, end, and_(same, Range(offset, float(source["log.offset"]), None, include_lo=False))),
    }
