"""The same requests against DuckDB and Elasticsearch, loaded with the same corpus, give the answers
computed from the corpus parameters (tests/query/query_corpus.py)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.query.query_corpus import END, ENDPOINTS, SLOW_MS, START, Truth, in_range, quantile_cont

pytestmark = pytest.mark.integration

RANGE = {"from": START.isoformat(), "to": END.isoformat()}
DAY1 = {"from": START.isoformat(), "to": (START + dt.timedelta(days=1)).isoformat()}


def get(api: TestClient, route: str, **params: Any) -> dict[str, Any]:
    resp = api.get(route, params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def all_offsets(api: TestClient, **params: Any) -> tuple[int, list[int]]:
    """Every matching event's log.offset, following the cursor to the end."""
    offsets: list[int] = []
    cursor = None
    total = -1
    while True:
        page = get(api, "/api/v1/events", size=1000, **params, **({"cursor": cursor} if cursor else {}))
        total = page["total"]
        offsets += [e["log"]["offset"] for e in page["events"]]
        cursor = page["next"]
        if cursor is None:
            return total, offsets


def ranked(counter: Counter[Any]) -> list[dict[str, Any]]:
    return [{"key": k, "count": n} for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]


def test_counts_per_user(api: TestClient, truths: list[Truth]) -> None:
    expected = Counter(t.user for t in truths if t.user)
    got = get(api, "/api/v1/stats/top", field="user", size=100, **RANGE)
    assert got["top"] == ranked(expected)
    assert got["total"] == len(truths)
    assert got["missing"] == sum(1 for t in truths if t.user is None)
    assert got["other"] == 0


def test_counts_per_endpoint_top_three(api: TestClient, truths: list[Truth]) -> None:
    expected = Counter(t.endpoint for t in truths if t.endpoint)
    got = get(api, "/api/v1/stats/top", field="endpoint", size=3, **RANGE)
    assert got["top"] == ranked(expected)[:3]
    assert got["other"] == sum(n for _, n in sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))[3:])


def test_top_error_users_and_status(api: TestClient, truths: list[Truth]) -> None:
    errors = Counter(t.user for t in truths if t.user and t.is_error)
    got = get(api, "/api/v1/stats/top", field="user", size=5, errors="true", **RANGE)
    assert got["top"] == ranked(errors)[:5]
    statuses = Counter(t.status for t in truths if t.status)
    got = get(api, "/api/v1/stats/top", field="status", size=50, **RANGE)
    assert got["top"] == ranked(statuses)


def test_errors_per_5m_bucket_by_endpoint(api: TestClient, truths: list[Truth]) -> None:
    day = in_range(truths, START, START + dt.timedelta(days=1))
    errors = [t for t in day if t.is_error]
    top = [
        k
        for k, _ in sorted(Counter(t.endpoint for t in errors if t.endpoint).items(), key=lambda kv: (-kv[1], kv[0]))[
            :3
        ]
    ]
    got = get(api, "/api/v1/stats/errors-over-time", interval="5m", by="endpoint", top=3, **DAY1)
    assert got["interval"] == "5m"
    assert len(got["buckets"]) == 288
    for i, bucket in enumerate(got["buckets"]):
        b_start = START + dt.timedelta(minutes=5 * i)
        assert bucket["start"] == b_start.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        inside = [t for t in errors if b_start <= t.ts < b_start + dt.timedelta(minutes=5)]
        per = Counter(t.endpoint for t in inside)
        expected = {k: per.get(k, 0) for k in top}
        expected["other"] = sum(1 for t in inside if t.endpoint is not None and t.endpoint not in top)
        expected["missing"] = sum(1 for t in inside if t.endpoint is None)
        assert (bucket["count"], bucket["series"]) == (len(inside), expected), bucket["start"]


def test_errors_per_hour_without_series(api: TestClient, truths: list[Truth]) -> None:
    got = get(api, "/api/v1/stats/errors-over-time", interval="1h", **RANGE)
    expected = Counter(t.ts.replace(minute=0, second=0, microsecond=0) for t in truths if t.is_error)
    assert len(got["buckets"]) == 48
    for bucket in got["buckets"]:
        start = dt.datetime.fromisoformat(bucket["start"].replace("Z", "+00:00"))
        assert bucket["count"] == expected.get(start, 0)
        assert bucket["series"] == {}


RUNBOOK = {
    "level:error": lambda t: t.level == "error",
    'userId:"user_3"': lambda t: t.user == "user_3",
    "tags:slow_request AND responseTime:>2000": lambda t: (
        (t.duration_ms or 0) > SLOW_MS and (t.duration_ms or 0) > 2000
    ),
    'action:"payment" AND status:"failed"': lambda t: t.action == "payment" and t.source_status == "failed",
    'endpoint:"/api/v1/likes" AND status:[400 TO 599]': lambda t: (
        t.endpoint == "/api/v1/likes" and 400 <= (t.status or 0) <= 599
    ),
}


@pytest.mark.parametrize("q", list(RUNBOOK))
def test_runbook_queries_verbatim(api: TestClient, truths: list[Truth], q: str) -> None:
    expected = sorted(t.offset for t in truths if RUNBOOK[q](t))
    assert expected, "the corpus must exercise every runbook query"
    total, offsets = all_offsets(api, q=q, **RANGE)
    assert total == len(expected)
    assert sorted(offsets) == expected


MORE_QUERIES = {
    "status:0": lambda t: t.source_status == 0 or t.status == 0,
    "action:sync AND status:>=1": lambda t: t.action == "sync" and (t.source_status or 0) >= 1,
    'status:"500"': lambda t: t.status == 500,
    "NOT level:info AND action:*": lambda t: t.level != "info" and t.action is not None,
    "level:(warn OR fatal) AND -service:api": lambda t: t.level in ("warn", "fatal") and t.service != "api",
    '"connection refused"': lambda t: "connection refused" in t.message.lower(),
    "connection": lambda t: re.search(r"\bconnection\b", t.message.lower()) is not None,
    "conn*": lambda t: re.search(r"\bconn\w*", t.message.lower()) is not None,
    "user:user_1*": lambda t: (t.user or "").startswith("user_1"),
    "responseTime:[100 TO 200}": lambda t: t.duration_ms is not None and 100 <= t.duration_ms < 200,
    "error.type:DbError OR errorType:CardDeclined": lambda t: t.error_type in ("DbError", "CardDeclined"),
    'method:get AND endpoint:"/health"': lambda t: t.path == "/health" and t.offset % 2 == 1,
}


TEXT_QUERIES: dict[str, Any] = {
    # A bare word or phrase searches message, error.message and error.stack_trace.
    "declined": lambda t: t.error_type == "CardDeclined",
    '"pool exhausted"': lambda t: t.error_type in ("DbError", "TimeoutError"),
    "happened": lambda t: t.error_type is not None,
    "payments.py": lambda t: t.error_type == "CardDeclined",
    "users.js": lambda t: t.error_type in ("DbError", "TimeoutError"),
    "pool AND level:error": lambda t: t.error_type in ("DbError", "TimeoutError"),
    # The names the applications logged, as the parsers' tables map them.
    "exception:CardDeclined": lambda t: t.error_type == "CardDeclined",
    'event:"payment failed"': lambda t: t.action == "payment" and t.source_status == "failed",
    "msg:refused": lambda t: "refused" in t.message,
    "level:warning": lambda t: t.level == "warn",
    "level:WARNING OR severity:fatal": lambda t: t.level in ("warn", "fatal"),
    "level:50": lambda t: t.level == "error",
}


QUERIES = {**MORE_QUERIES, **TEXT_QUERIES}


@pytest.mark.parametrize("q", list(QUERIES))
def test_query_string_semantics(api: TestClient, truths: list[Truth], q: str) -> None:
    expected = sorted(t.offset for t in truths if QUERIES[q](t))
    assert expected, "the corpus must exercise every query"
    total, offsets = all_offsets(api, q=q, **RANGE)
    assert (total, sorted(offsets)) == (len(expected), expected)


FILTERS: dict[str, tuple[dict[str, str], Any]] = {
    "user": ({"user": "user_5"}, lambda t: t.user == "user_5"),
    "concrete endpoint is templated": (
        {"endpoint": "/api/v1/users/42"},
        lambda t: t.endpoint == "/api/v1/users/{id}",
    ),
    "status class": ({"status": "5xx"}, lambda t: (t.status or 0) >= 500),
    "status range": ({"status": "400-499"}, lambda t: 400 <= (t.status or 0) <= 499),
    "status code": ({"status": "404"}, lambda t: t.status == 404),
    "levels": ({"level": "warn,fatal"}, lambda t: t.level in ("warn", "fatal")),
    "tag": ({"tag": "slow_request"}, lambda t: (t.duration_ms or 0) > SLOW_MS),
    "service and path": (
        {"service": "billing", "path": "/api/v1/likes"},
        lambda t: t.service == "billing" and t.path == "/api/v1/likes",
    ),
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_filter_parameters(api: TestClient, truths: list[Truth], name: str) -> None:
    params, pred = FILTERS[name]
    expected = sorted(t.offset for t in truths if pred(t))
    assert expected
    total, offsets = all_offsets(api, **params, **RANGE)
    assert (total, sorted(offsets)) == (len(expected), expected)


def test_paging_newest_first_visits_each_event_once(api: TestClient, truths: list[Truth]) -> None:
    start, end = START + dt.timedelta(hours=20), START + dt.timedelta(hours=30)  # spans both days
    expected = sorted(in_range(truths, start, end), key=lambda t: t.ts, reverse=True)
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"from": start.isoformat(), "to": end.isoformat(), "size": 37}
        if cursor:
            params["cursor"] = cursor
        page = get(api, "/api/v1/events", **params)
        assert page["total"] == len(expected)
        seen += page["events"]
        cursor = page["next"]
        if cursor is None:
            break
    assert sorted(e["log"]["offset"] for e in seen) == sorted(t.offset for t in expected)
    stamps = [e["@timestamp"] for e in seen]
    assert stamps == sorted(stamps, reverse=True)


def test_oldest_first(api: TestClient, truths: list[Truth]) -> None:
    page = get(api, "/api/v1/events", sort="asc", size=5, **RANGE)
    assert [e["log"]["offset"] for e in page["events"]] == [t.offset for t in sorted(truths, key=lambda t: t.ts)[:5]]


def test_latency_overall_and_per_endpoint(api: TestClient, backend: Any, truths: list[Truth]) -> None:
    """Exact on both backends: Elasticsearch reads each distinct duration and its count (few here)."""
    got = get(api, "/api/v1/stats/latency", by="endpoint", size=10, **RANGE)

    def check(stats: dict[str, Any], group: list[Truth]) -> None:
        durations = [t.duration_ms for t in group if t.duration_ms is not None]
        assert stats["count"] == len(durations)
        assert stats["max"] == max(durations)
        assert stats["slow"] == sum(1 for d in durations if d > SLOW_MS)
        assert stats["exact"] is True
        for key, p in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
            assert stats[key] == round(quantile_cont(durations, p), 3), key

    check(got["overall"], truths)
    by_endpoint = Counter(t.endpoint for t in truths if t.endpoint)
    assert [s["key"] for s in got["series"]] == [r["key"] for r in ranked(by_endpoint)]
    for s in got["series"]:
        check(s, [t for t in truths if t.endpoint == s["key"]])


def test_empty_range_gives_zeros(api: TestClient) -> None:
    params = {"from": "2020-01-01T00:00:00Z", "to": "2020-01-01T01:00:00Z"}
    empty = get(api, "/api/v1/events", **params)
    assert (empty["total"], empty["events"], empty["next"]) == (0, [], None)
    assert empty["window"] == {"from": "2020-01-01T00:00:00.000Z", "to": "2020-01-01T01:00:00.000Z"}
    buckets = get(api, "/api/v1/stats/errors-over-time", interval="5m", **params)["buckets"]
    assert [b["count"] for b in buckets] == [0] * 12
    lat = get(api, "/api/v1/stats/latency", **params)["overall"]
    assert lat == {"count": 0, "p50": None, "p95": None, "p99": None, "max": None, "slow": 0, "exact": True}


def test_estimated_percentiles_say_so(es_corpus: tuple[Any, str], corpus_settings: Any, truths: list[Truth]) -> None:
    """More distinct (endpoint, duration) pairs than Elasticsearch is asked to read one by one: its
    t-digest estimates are given, marked ``exact: false`` (count, max and slow stay exact)."""
    from logferry.components import query_app
    from query.backend import ElasticsearchBackend

    client, prefix = es_corpus
    api = TestClient(query_app(corpus_settings, ElasticsearchBackend(client, prefix, exact_pairs=10)))
    got = get(api, "/api/v1/stats/latency", by="endpoint", limit=3, **RANGE)
    durations = [t.duration_ms for t in truths if t.duration_ms is not None]
    assert got["overall"]["exact"] is False
    assert got["overall"]["count"] == len(durations) and got["overall"]["max"] == max(durations)
    assert got["overall"]["p95"] == pytest.approx(quantile_cont(durations, 0.95), rel=0.05)
    assert [s["exact"] for s in got["series"]] == [False, False, False]


@pytest.mark.parametrize("sort", ["p95", "p50", "max", "slow"])
def test_latency_sorted_by_a_figure_lists_the_slowest(api: TestClient, truths: list[Truth], sort: str) -> None:
    got = get(api, "/api/v1/stats/latency", by="endpoint", limit=3, sort=sort, **RANGE)
    figure = {
        "p95": lambda d: quantile_cont(d, 0.95),
        "p50": lambda d: quantile_cont(d, 0.5),
        "max": max,
        "slow": lambda d: sum(1 for x in d if x > SLOW_MS),
    }[sort]
    per = {e: [t.duration_ms for t in truths if t.endpoint == e and t.duration_ms is not None] for e in ENDPOINT_KEYS}
    expected = sorted(per, key=lambda e: (-round(figure(per[e]), 3), e))[:3]
    assert [s["key"] for s in got["series"]] == expected
    assert all(s["exact"] for s in got["series"])


ENDPOINT_KEYS = sorted({template for template, _ in ENDPOINTS})


@pytest.mark.parametrize(
    "q", ["py", "js", "acquire", "gateway", "error.stack_trace:payments", "error.stack_trace:users"]
)
def test_a_word_inside_a_dotted_name_is_not_a_word(api: TestClient, q: str) -> None:
    """`payments.py`, `Pool.acquire` are one word each to Elasticsearch's analyzer; DuckDB answers the same (none)."""
    assert get(api, "/api/v1/events", q=q, **RANGE)["total"] == 0


def test_a_field_no_event_has_is_warned_about(api: TestClient) -> None:
    got = get(api, "/api/v1/events", q="nosuchfield:foo", **RANGE)
    assert got["total"] == 0
    assert len(got["warnings"]) == 1 and "has a field 'nosuchfield'" in got["warnings"][0]
    typo = get(api, "/api/v1/stats/top", field="user", q="erro.type:DbError", **RANGE)
    assert "did you mean 'error.type'?" in typo["warnings"][0]
    for q in ("action:payment", "level:error", "nosuchfield:foo OR action:sync"):
        got = get(api, "/api/v1/events", q=q, **RANGE)
        assert got["total"] > 0
        assert [w for w in got["warnings"] if "action" in w] == [], q
    assert len(get(api, "/api/v1/stats/latency", q="nosuchfield:foo", **RANGE)["warnings"]) == 1
    assert len(get(api, "/api/v1/stats/errors-over-time", q="nosuchfield:1", **RANGE)["warnings"]) == 1


def test_every_answer_says_its_window(api: TestClient) -> None:
    window = {"from": "2026-03-10T00:00:00.000Z", "to": "2026-03-12T00:00:00.000Z"}
    for route, extra in (
        ("/api/v1/events", {}),
        ("/api/v1/stats/top", {"field": "user"}),
        ("/api/v1/stats/latency", {}),
        ("/api/v1/stats/errors-over-time", {}),
    ):
        assert get(api, route, **extra, **RANGE)["window"] == window, route
    default = get(api, "/api/v1/events")["window"]
    span = dt.datetime.fromisoformat(default["to"]) - dt.datetime.fromisoformat(default["from"])
    assert span == dt.timedelta(days=1)
