"""The Elasticsearch backend: query DSL and aggregations over the daily indices the range touches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from elasticsearch import ApiError, Elasticsearch, TransportError

from core.errors import QueryError
from core.schema import SLOW_TAG
from core.timefmt import iso_ms
from elastic.errors import api_reason
from elastic.naming import DailyIndex
from query.dsl import compile_dsl
from query.expr import Exists, Expr, Field, MatchAll, and_, or_
from query.fields import ECS_FIELDS, KEY_FIELDS
from query.filters import ERROR_EXPR, Filters
from query.groups import GROUPED, MAX_GROUPS, TOP_VALUES, Details, GroupStates, IndexGroupStates, InRange
from query.results import (
    LEVEL_SERIES,
    PERCENTS,
    BackendUnavailable,
    QueryTimeout,
    assemble_buckets,
    bucket_starts,
    context_answer,
    decode_cursor,
    encode_cursor,
    latency_answer,
    latency_stats,
    rank,
    rank_series,
)
from query.timerange import EARLIEST, LATEST, day_bounds, days_touched, interval_name

KEY_FIELD = KEY_FIELDS
GROUP_KEY = "error.grouping_key"
STATES_SUFFIX = "error-groups"
USERS_EXACT_BELOW = 40_000
"""cardinality's precision_threshold (its maximum): below it the count is exact in practice (a hash set),
as DuckDB's; a terms list of users per group would break search.max_buckets on a large store."""
PAGE = 10_000  # hits per request (index.max_result_window)
MAX_LISTED_INDICES = 60  # beyond this many days, search the daily pattern with the time filter
SHARD_SIZE = 10_000  # terms aggregations stay exact for realistic cardinalities
EXACT_PAIRS = 500_000  # distinct (key, duration) pairs read for exact percentiles; beyond, t-digest estimates
PAIRS_PAGE = 10_000  # composite buckets per request, under search.max_buckets (65,536)
NS_PER_MS = 1_000_000.0
COMPOSITE_PAGE = 10_000  # (group, duration) pairs per request of duration_values_by
T = TypeVar("T")


class ElasticsearchBackend:
    """Answers the API from ``<prefix>-YYYY.MM.DD`` indices (documents as the sink wrote them)."""

    name = "elasticsearch"

    def __init__(
        self,
        client: Elasticsearch,
        prefix: str,
        timeout: float = 10.0,
        date_pattern: str = "%Y.%m.%d",
        exact_pairs: int = EXACT_PAIRS,
    ) -> None:
        self.client = client.options(request_timeout=timeout + 5)
        self.daily = DailyIndex(prefix, date_pattern)
        self.timeout = timeout
        self.exact_pairs = exact_pairs
        self.states: GroupStates = IndexGroupStates(self.client, f"{prefix}-{STATES_SUFFIX}")
        """Error group states, one document per group in ``<prefix>-error-groups``."""

    # -- plumbing -------------------------------------------------------------------------------

    def _index(self, f: Filters) -> str:
        """The daily indices of the range by name; past ``MAX_LISTED_INDICES`` days (a URL has a length
        limit), the pattern of every daily index — never the dead-letter index nor another
        deployment's ``<prefix>-other-<day>`` — and the time filter does the rest."""
        first, last = day_bounds(f.start, f.end)
        if (last - first).days >= MAX_LISTED_INDICES:
            return self.daily.read_pattern()
        return ",".join(self.daily.name(d) for d in days_touched(f.start, f.end))

    def _query(self, f: Filters, *extra: Expr) -> dict[str, Any]:
        time_filter = {"range": {"@timestamp": {"gte": iso_ms(f.start), "lt": iso_ms(f.end)}}}
        return {"bool": {"filter": [time_filter, compile_dsl(and_(f.expr, *extra))]}}

    def _call(self, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except ApiError as exc:
            if exc.meta.status == 400:
                raise QueryError(f"Elasticsearch refused the query: {api_reason(exc)}") from None
            if exc.meta.status in (408, 504):
                raise QueryTimeout(f"the query ran longer than {self.timeout:g} s; narrow it") from None
            raise BackendUnavailable(f"Elasticsearch answered {exc.meta.status}: {api_reason(exc)}") from None
        except TransportError as exc:
            raise BackendUnavailable(f"Elasticsearch is not reachable: {exc}") from None

    def _search(self, f: Filters, **kwargs: Any) -> dict[str, Any]:
        resp = self._call(
            lambda: self.client.search(
                index=self._index(f),
                ignore_unavailable=True,
                allow_no_indices=True,
                timeout=f"{self.timeout:g}s",
                **kwargs,
            )
        )
        body: dict[str, Any] = resp.body
        if body.get("timed_out"):
            raise QueryTimeout(f"the query ran longer than {self.timeout:g} s; narrow it")
        if "aggs" in kwargs and "aggregations" not in body:  # no index in the range yet
            body["aggregations"] = _empty_aggs(kwargs["aggs"])
        return body

    # -- Backend --------------------------------------------------------------------------------

    def ping(self) -> str:
        info = self._call(lambda: self.client.cluster.health(timeout="5s"))
        if info["status"] == "red":
            raise BackendUnavailable("Elasticsearch cluster health is red")
        return f"Elasticsearch cluster {info['cluster_name']} is {info['status']}"

    def any_match(self, f: Filters) -> bool:
        body = self._search(f, query=self._query(f), size=0, terminate_after=1, track_total_hits=1)
        return bool(body["hits"]["total"]["value"])

    def search_events(self, f: Filters, size: int, sort: str, cursor: str | None) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if cursor:
            kwargs["search_after"] = decode_cursor(cursor)
        body = self._search(
            f,
            query=self._query(f),
            size=size + 1,
            sort=[{"@timestamp": {"order": sort}}, {"event.id": {"order": sort}}],
            track_total_hits=True,
            **kwargs,
        )
        hits = body["hits"]["hits"]
        page = hits[:size]
        nxt = encode_cursor(page[-1]["sort"]) if len(hits) > size else None
        return {"total": body["hits"]["total"]["value"], "events": [h["_source"] for h in page], "next": nxt}

    def _top_keys(self, f: Filters, field: str, size: int, *extra: Expr) -> dict[str, Any]:
        return self._search(
            f,
            query=self._query(f, *extra),
            size=0,
            track_total_hits=True,
            aggs={
                "top": {
                    "terms": {
                        "field": KEY_FIELD[field],
                        "size": size,
                        "shard_size": SHARD_SIZE,
                        "order": [{"_count": "desc"}, {"_key": "asc"}],
                    }
                },
                "missing": {"missing": {"field": KEY_FIELD[field]}},
            },
        )

    def errors_over_time(self, f: Filters, interval: str, width_ms: int, by: str | None, top: int) -> dict[str, Any]:
        keys: list[str] | None = None
        hist: dict[str, Any] = {
            "date_histogram": {"field": "@timestamp", "fixed_interval": interval, "min_doc_count": 1}
        }
        if by:
            ranked = self._top_keys(f, by, top, ERROR_EXPR)["aggregations"]["top"]["buckets"]
            keys = [b["key"] for b in ranked]
            hist["aggs"] = {"missing": {"missing": {"field": KEY_FIELD[by]}}}
            if keys:
                hist["aggs"]["series"] = {"terms": {"field": KEY_FIELD[by], "include": keys, "size": len(keys)}}
        body = self._search(f, query=self._query(f, ERROR_EXPR), size=0, aggs={"hist": hist})
        totals: dict[int, int] = {}
        series: dict[int, dict[str, int]] = {}
        missing: dict[int, int] = {}
        for b in body["aggregations"]["hist"]["buckets"]:
            totals[b["key"]] = b["doc_count"]
            if "series" in b:
                series[b["key"]] = {s["key"]: s["doc_count"] for s in b["series"]["buckets"]}
            if "missing" in b:
                missing[b["key"]] = b["missing"]["doc_count"]
        return assemble_buckets(interval, bucket_starts(f.start, f.end, width_ms), totals, series, keys, missing)

    def top(self, f: Filters, field: str, size: int, errors: bool) -> dict[str, Any]:
        body = self._top_keys(f, field, size, *((ERROR_EXPR,) if errors else ()))
        aggs = body["aggregations"]
        return {
            "field": field,
            "total": body["hits"]["total"]["value"],
            "top": [{"key": b["key"], "count": b["doc_count"]} for b in aggs["top"]["buckets"]],
            "other": aggs["top"]["sum_other_doc_count"],
            "missing": aggs["missing"]["doc_count"],
        }

    def latency(self, f: Filters, by: str | None, size: int, sort: str = "count") -> dict[str, Any]:
        """Exact, as DuckDB computes them, from every (key, duration) pair and its count, read page by
        page; past ``exact_pairs`` pairs, Elasticsearch's t-digest estimates, marked ``exact: false``."""
        rows = self._latency_rows(f, by)
        if rows is not None:
            return latency_answer(rows, by, size, sort)
        return self._estimated_latency(f, by, size, sort)

    def _latency_rows(self, f: Filters, by: str | None) -> list[tuple[Any, float | None, int, int]] | None:
        sources: list[dict[str, Any]] = []
        if by:
            sources.append({"k": {"terms": {"field": KEY_FIELD[by], "missing_bucket": True}}})
        sources.append({"d": {"terms": {"field": "event.duration", "missing_bucket": True}}})
        rows: list[tuple[Any, float | None, int, int]] = []
        after: dict[str, Any] | None = None
        while True:
            composite: dict[str, Any] = {"size": PAIRS_PAGE, "sources": sources}
            if after is not None:
                composite["after"] = after
            aggs = {"pairs": {"composite": composite, "aggs": {"slow": {"filter": {"term": {"tags": SLOW_TAG}}}}}}
            pairs = self._search(f, query=self._query(f), size=0, aggs=aggs)["aggregations"]["pairs"]
            for b in pairs["buckets"]:
                ns = b["key"]["d"]
                rows.append(
                    (b["key"].get("k"), None if ns is None else ns / NS_PER_MS, b["doc_count"], b["slow"]["doc_count"])
                )
            if len(rows) > self.exact_pairs:
                return None
            after = pairs.get("after_key")
            if not pairs["buckets"] or after is None:
                return rows

    def _estimated_latency(self, f: Filters, by: str | None, size: int, sort: str) -> dict[str, Any]:
        stats_aggs = {
            "pct": {
                "percentiles": {
                    "field": "event.duration",
                    "percents": list(PERCENTS),
                    "tdigest": {"compression": 1000, "execution_hint": "high_accuracy"},
                }
            },
            "max": {"max": {"field": "event.duration"}},
            "has": {"value_count": {"field": "event.duration"}},
            "slow": {"filter": {"term": {"tags": SLOW_TAG}}},
        }
        aggs: dict[str, Any] = dict(stats_aggs)
        if by:
            aggs["series"] = {
                "terms": {
                    "field": KEY_FIELD[by],
                    "size": size if sort == "count" else SHARD_SIZE,
                    "shard_size": SHARD_SIZE,
                    "order": [{"_count": "desc"}, {"_key": "asc"}],
                },
                "aggs": stats_aggs,
            }
        body = self._search(f, query=self._query(f), size=0, aggs=aggs)
        a = body["aggregations"]
        out: dict[str, Any] = {"overall": _estimated(a), "by": by, "series": []}
        if by:
            series = [{"key": b["key"], **_estimated(b)} for b in a["series"]["buckets"]]
            out["series"] = series if sort == "count" else rank_series(series, sort, size)
        return out

    def histogram(self, f: Filters, width_ms: int) -> dict[str, Any]:
        order = [{"_count": "desc"}, {"_key": "asc"}]
        body = self._search(
            f,
            query=self._query(f),
            size=0,
            track_total_hits=True,
            aggs={
                "levels": {"terms": {"field": "log.level", "size": LEVEL_SERIES, "order": order}},
                "hist": {
                    "date_histogram": {"field": "@timestamp", "fixed_interval": f"{width_ms}ms", "min_doc_count": 1},
                    "aggs": {"series": {"terms": {"field": "log.level", "size": 4 * LEVEL_SERIES}}},
                },
            },
        )
        aggs = body["aggregations"]
        keys = [b["key"] for b in aggs["levels"]["buckets"]]
        kept = set(keys)
        totals: dict[int, int] = {}
        series: dict[int, dict[str, int]] = {}
        for b in aggs["hist"]["buckets"]:
            totals[b["key"]] = b["doc_count"]
            series[b["key"]] = {s["key"]: s["doc_count"] for s in b["series"]["buckets"] if s["key"] in kept}
        out = assemble_buckets(interval_name(width_ms), bucket_starts(f.start, f.end, width_ms), totals, series, keys)
        return {**out, "interval_ms": width_ms, "total": body["hits"]["total"]["value"], "levels": keys}

    def event(self, event_id: str, at: dt.datetime | None) -> dict[str, Any] | None:
        """The stored document of ``event_id``, looked up in the index of ``at`` (every daily index without)."""
        f = Filters(at, at + dt.timedelta(milliseconds=1), MatchAll()) if at else Filters(EARLIEST, LATEST, MatchAll())
        body = self._search(f, query={"term": {"event.id": event_id}}, size=1)
        hits = body["hits"]["hits"]
        return hits[0]["_source"] if hits else None

    def context(self, event_id: str, at: dt.datetime | None, n: int) -> dict[str, Any] | None:
        def lines(f: Filters, before: bool) -> list[dict[str, Any]]:
            order = "desc" if before else "asc"
            sort = [{"log.offset": order}, {"@timestamp": order}, {"event.id": order}]
            body = self._search(f, query=self._query(f), size=n, sort=sort)
            return [h["_source"] for h in body["hits"]["hits"]]

        return context_answer(self.event(event_id, at), lines)

    # -- error groups (query.groups) -------------------------------------------------------------

    def group_stats(self, f: Filters) -> dict[str, InRange]:
        body = self._search(
            f,
            query=self._query(f, GROUPED),
            size=0,
            aggs={
                "groups": {
                    "terms": {"field": GROUP_KEY, "size": MAX_GROUPS},
                    "aggs": {
                        "first": {"min": {"field": "@timestamp"}},
                        "last": {"max": {"field": "@timestamp"}},
                        "users": {"cardinality": {"field": "user.id", "precision_threshold": USERS_EXACT_BELOW}},
                    },
                }
            },
        )
        stats = {}
        for bucket in body["aggregations"]["groups"]["buckets"]:
            group = InRange()
            group.add(bucket["doc_count"], _time(bucket["first"]["value"]), _time(bucket["last"]["value"]))
            group.user_count = int(bucket["users"]["value"])
            stats[bucket["key"]] = group
        return stats

    def group_lifetimes(self, keys: list[str]) -> dict[str, tuple[dt.datetime, dt.datetime]]:
        resp = self._call(
            lambda: self.client.search(
                index=self.daily.read_pattern(),
                ignore_unavailable=True,
                allow_no_indices=True,
                size=0,
                query={"bool": {"filter": [compile_dsl(GROUPED), {"terms": {GROUP_KEY: keys}}]}},
                aggs={
                    "groups": {
                        "terms": {"field": GROUP_KEY, "size": len(keys)},
                        "aggs": {"first": {"min": {"field": "@timestamp"}}, "last": {"max": {"field": "@timestamp"}}},
                    }
                },
            )
        )
        buckets = resp.body.get("aggregations", {}).get("groups", {}).get("buckets", [])
        return {b["key"]: (_time(b["first"]["value"]), _time(b["last"]["value"])) for b in buckets}

    def group_details(self, f: Filters, keys: list[str], width_ms: int) -> dict[str, Details]:
        top = {"size": TOP_VALUES, "shard_size": SHARD_SIZE, "order": [{"_count": "desc"}, {"_key": "asc"}]}
        body = self._search(
            f,
            query={"bool": {"filter": [self._query(f, GROUPED), {"terms": {GROUP_KEY: keys}}]}},
            size=0,
            aggs={
                "groups": {
                    "terms": {"field": GROUP_KEY, "size": len(keys)},
                    "aggs": {
                        "endpoints": {"terms": {"field": "endpoint", **top}},
                        "services": {"terms": {"field": "service.name", **top}},
                        "hist": {"date_histogram": {"field": "@timestamp", "fixed_interval": f"{width_ms}ms"}},
                        "sample": {
                            "top_hits": {
                                "size": 1,
                                "sort": [{"@timestamp": {"order": "desc"}}, {"event.id": {"order": "desc"}}],
                            }
                        },
                    },
                }
            },
        )
        details = {}
        for bucket in body["aggregations"]["groups"]["buckets"]:
            hits = bucket["sample"]["hits"]["hits"]
            details[bucket["key"]] = Details(
                endpoints={b["key"]: b["doc_count"] for b in bucket["endpoints"]["buckets"]},
                services={b["key"]: b["doc_count"] for b in bucket["services"]["buckets"]},
                buckets={b["key"]: b["doc_count"] for b in bucket["hist"]["buckets"] if b["doc_count"]},
                sample=hits[0]["_source"] if hits else None,
            )
        return details

    # -- patterns (query.patterns) ---------------------------------------------------------------

    def messages(self, f: Filters, limit: int) -> list[tuple[dt.datetime, str]]:
        """The ``message`` of the newest ``limit`` events matching, newest first (events without one skipped)."""
        out: list[tuple[dt.datetime, str]] = []
        after: list[Any] | None = None
        query = self._query(f, Exists(ECS_FIELDS["message"]))
        while len(out) < limit:
            page = min(PAGE, limit - len(out))
            body = self._search(
                f,
                query=query,
                size=page,
                sort=[{"@timestamp": {"order": "desc"}}, {"event.id": {"order": "desc"}}],
                source_includes=["message"],
                **({"search_after": after} if after else {}),
            )
            hits = body["hits"]["hits"]
            for hit in hits:
                text = hit["_source"].get("message")
                if type(text) is str:
                    out.append((_time(hit["sort"][0]), text))
            if len(hits) < page:
                break
            after = hits[-1]["sort"]
        return out

    # -- measures of alert rules (alerts/) ------------------------------------------------------

    def count_by(self, f: Filters, by: Field | None, conditions: Sequence[Expr], limit: int) -> dict[Any, list[int]]:
        """As ``DuckDBBackend.count_by``: one terms aggregation (count desc, key asc) of filter counts."""
        counts = {f"c{i}": {"filter": compile_dsl(c)} for i, c in enumerate(conditions)}
        query = self._query(f, or_(*conditions), *([Exists(by)] if by is not None else []))
        if by is None:
            body = self._search(f, query=query, size=0, track_total_hits=True, aggs=counts)
            a = body["aggregations"]
            if not body["hits"]["total"]["value"]:
                return {}
            return {None: [a[f"c{i}"]["doc_count"] for i in range(len(conditions))]}
        aggs = {
            "groups": {
                "terms": {
                    "field": by.name,
                    "size": limit,
                    "shard_size": max(SHARD_SIZE, limit),
                    "order": [{"_count": "desc"}, {"_key": "asc"}],
                },
                "aggs": counts,
            }
        }
        buckets = self._search(f, query=query, size=0, aggs=aggs)["aggregations"]["groups"]["buckets"]
        return {b["key"]: [b[f"c{i}"]["doc_count"] for i in range(len(conditions))] for b in buckets}

    def duration_values_by(self, f: Filters, by: Field | None, limit: int) -> dict[Any, list[tuple[float, int]]]:
        """As ``DuckDBBackend.duration_values_by``: every (group, duration) pair through a composite
        aggregation, page by page, so the percentiles are exact rather than t-digest estimates."""
        sources: list[dict[str, Any]] = [{"d": {"terms": {"field": "event.duration"}}}]
        if by is not None:
            sources.insert(0, {"k": {"terms": {"field": by.name}}})
        query = self._query(f, Exists(ECS_FIELDS["event.duration"]), *([Exists(by)] if by is not None else []))
        values: dict[Any, list[tuple[float, int]]] = {}
        after: dict[str, Any] | None = None
        while True:
            composite: dict[str, Any] = {"size": COMPOSITE_PAGE, "sources": sources}
            if after is not None:
                composite["after"] = after
            result = self._search(f, query=query, size=0, aggs={"pairs": {"composite": composite}})
            page = result["aggregations"]["pairs"]
            for b in page.get("buckets", []):
                values.setdefault(b["key"].get("k"), []).append((b["key"]["d"] / NS_PER_MS, b["doc_count"]))
            after = page.get("after_key")
            if after is None or len(page.get("buckets", [])) < COMPOSITE_PAGE:
                break
        if by is None:
            return values
        ranked = rank({k: sum(n for _, n in v) for k, v in values.items()}, limit)
        return {k: sorted(values[k]) for k, _ in ranked}


def _time(value: Any) -> dt.datetime:
    """An aggregation's date value (epoch ms as a float) as a UTC datetime."""
    return dt.datetime.fromtimestamp(value / 1000, dt.UTC)


def _estimated(a: dict[str, Any]) -> dict[str, Any]:
    count = int(a["has"]["value"])

    def ms(v: float | None) -> float | None:
        return None if v is None or count == 0 else v / NS_PER_MS

    values = a["pct"]["values"]
    return latency_stats(
        count,
        (ms(values.get(f"{p:.1f}")) for p in PERCENTS),
        ms(a["max"]["value"]),
        a["slow"]["doc_count"],
        exact=False,
    )


_EMPTY_RESULT: dict[str, Any] = {
    "terms": {"buckets": [], "sum_other_doc_count": 0},
    "date_histogram": {"buckets": []},
    "missing": {"doc_count": 0},
    "filter": {"doc_count": 0},
    "percentiles": {"values": {}},
    "max": {"value": None},
    "value_count": {"value": 0},
    "composite": {"buckets": []},
}


def _empty_aggs(aggs: dict[str, Any]) -> dict[str, Any]:
    """What Elasticsearch answers for ``aggs`` over no documents, when it answers nothing."""
    out = {}
    for name, spec in aggs.items():
        kind = next(k for k in spec if k != "aggs")
        out[name] = dict(_EMPTY_RESULT[kind])
    return out
