"""Values at and past the edges of what the API can represent: a 422 that says what is wrong, never
a 500; a valid but huge range is clamped to the days that hold data, on both backends."""

from __future__ import annotations

import base64
import json
import tracemalloc
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.query.query_corpus import END, START, Truth

pytestmark = pytest.mark.integration

RANGE = {"from": START.isoformat(), "to": END.isoformat()}
ROUTES = ["/api/v1/events", "/api/v1/stats/top?field=user", "/api/v1/stats/latency", "/api/v1/stats/errors-over-time"]


def cursor_of(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


OUT_OF_RANGE: dict[str, tuple[dict[str, str], str]] = {
    "from 10^11 days ago": ({"from": "now-99999999999d"}, "outside"),
    "from a million days ago": ({"from": "now-1000000d"}, "outside"),
    "from a million days ago, rounded": ({"from": "now-1000000d/d"}, "outside"),
    "to 10^11 days ahead": ({"to": "now+99999999999d"}, "outside"),
    "from an amount of 5000 digits": ({"from": "now-" + "9" * 5000 + "d"}, "outside"),
    "from year 1 east of UTC": ({"from": "0001-01-01T00:00:00+14:00"}, "outside"),
    "to year 9999 west of UTC": ({"to": "9999-12-31T23:59:59.999999-05:00"}, "outside"),
    "to the first instant, no from": ({"to": "0001-01-01T00:00:00Z"}, "outside"),
    "q range from 10^11 days ago": ({"q": "@timestamp:[now-99999999999d TO now]"}, "outside"),
    "q time east of year 1": ({"q": '@timestamp:"0001-01-01T00:00:00+14:00"'}, "outside"),
    "q ingested far ahead": ({"q": "event.ingested:>now+99999999999d"}, "outside"),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("name", list(OUT_OF_RANGE))
def test_an_unrepresentable_time_is_422_with_a_message(api: TestClient, name: str, route: str) -> None:
    params, needle = OUT_OF_RANGE[name]
    resp = api.get(route, params=params)
    assert resp.status_code == 422, resp.text
    assert needle in resp.json()["detail"]


CURSORS = {
    "max int64 microseconds": [2**63 - 1, "x"],
    "min int64": [-(2**63), "x"],
    "past 64 bits": [2**64, "x"],
    "a float": [1.5e300, "x"],
    "a bool": [True, "x"],
    "id not a string": [0, 5],
}


@pytest.mark.parametrize("name", list(CURSORS))
def test_a_crafted_cursor_is_422(api: TestClient, name: str) -> None:
    resp = api.get("/api/v1/events", params={**RANGE, "cursor": cursor_of(CURSORS[name])})
    assert resp.status_code == 422, resp.text
    assert "cursor" in resp.json()["detail"]


WIDEST = {"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T23:59:59.999999Z"}


@pytest.mark.parametrize(
    "params",
    [WIDEST, {"from": "0001-01-01", "to": "9999-12-31"}, {"from": "now-1000d", "to": "now+1000d"}],
    ids=["first to last instant", "first to last day", "relative thousands of days"],
)
def test_a_huge_valid_range_answers_over_the_days_that_hold_data(
    api: TestClient, truths: list[Truth], params: dict[str, str]
) -> None:
    assert api.get("/api/v1/events", params={**params, "size": 1}).json()["total"] == len(truths)
    top = api.get("/api/v1/stats/top", params={**params, "field": "user"})
    assert top.status_code == 200, top.text
    assert top.json()["total"] == len(truths)
    latency = api.get("/api/v1/stats/latency", params=params)
    assert latency.status_code == 200, latency.text
    assert latency.json()["overall"]["count"] == sum(1 for t in truths if t.duration_ms is not None)


def test_errors_over_time_refuses_millions_of_buckets(api: TestClient) -> None:
    resp = api.get("/api/v1/stats/errors-over-time", params={**WIDEST, "interval": "auto"})
    assert resp.status_code == 422
    assert "buckets" in resp.json()["detail"]


def test_the_widest_range_costs_no_per_day_work(api: TestClient) -> None:
    """0001..9999 is 3.65 million days: listing them (dates, index names) took 5 s of CPU and
    hundreds of MB per request. Memory, unlike time, is a deterministic witness of that work."""
    api.get("/api/v1/events", params={**RANGE, "size": 1})  # warm caches (open day files, ES client)
    tracemalloc.start()
    try:
        resp = api.get("/api/v1/stats/top", params={**WIDEST, "field": "user"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert resp.status_code == 200, resp.text
    assert peak < 20 * 2**20, f"peak {peak / 2**20:.0f} MB"


NUMBER_PAST_64_BITS = {
    "log.offset:>1e19": "log.offset takes a number between",
    "event.duration:>9.3e18": "event.duration takes a number between",
    "http.response.status_code:[0 TO 1e20]": "http.response.status_code takes a number between",
    "log.offset:-1e19": "log.offset takes a number between",
}


@pytest.mark.parametrize("q", list(NUMBER_PAST_64_BITS))
def test_a_number_past_what_a_number_field_holds_is_422_on_both_backends(api: TestClient, q: str) -> None:
    resp = api.get("/api/v1/events", params={**RANGE, "q": q})
    assert resp.status_code == 422, resp.text
    assert NUMBER_PAST_64_BITS[q] in resp.json()["detail"]


@pytest.mark.parametrize(
    "q", ["responseTime:>1e308", "status:>99999999999999999999", "foo:1e308", "responseTime:[1e300 TO 1e308]"]
)
def test_a_huge_number_on_a_field_that_may_be_a_source_field_matches_nothing(api: TestClient, q: str) -> None:
    """``responseTime`` and ``status`` also name source fields (a double in ES), where 1e308 is a value."""
    resp = api.get("/api/v1/events", params={**RANGE, "q": q})
    assert resp.status_code == 200, resp.text
    assert resp.json()["total"] == 0
