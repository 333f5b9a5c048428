"""tag_http: ECS request fields from top-level and pino-http shapes; odd values left in place."""

from __future__ import annotations

from typing import Any

import pytest

from parsers.http import TagHttp, split_url

tag_default = TagHttp()


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        pytest.param(
            {"method": "get", "url": "/users/42?expand=orders&x=1", "status": 200, "responseTime": 12},
            {
                "http.request.method": "GET",
                "url.original": "/users/42?expand=orders&x=1",
                "url.path": "/users/42",
                "url.query": "expand=orders&x=1",
                "http.response.status_code": 200,
                "event.duration": 12_000_000,
                "tags": ["http"],
            },
            id="top-level",
        ),
        pytest.param(
            {
                "req": {"id": 1, "method": "POST", "url": "/login", "headers": {"host": "h"}},
                "res": {"statusCode": 401},
                "responseTime": 3.5,
            },
            {
                "req": {"id": 1, "headers": {"host": "h"}},
                "http.request.method": "POST",
                "url.original": "/login",
                "url.path": "/login",
                "http.response.status_code": 401,
                "event.duration": 3_500_000,
                "tags": ["http"],
            },
            id="pino-http-req-res",
        ),
        pytest.param(
            {"req": {"method": "GET", "url": "/"}, "res": {"statusCode": 204}},
            {
                "http.request.method": "GET",
                "url.original": "/",
                "url.path": "/",
                "http.response.status_code": 204,
                "tags": ["http"],
            },
            id="emptied-req-res-dropped",
        ),
        pytest.param(
            {"method": "GET", "path": "/health", "status_code": "503", "duration_ms": "1500.5"},
            {
                "http.request.method": "GET",
                "url.original": "/health",
                "url.path": "/health",
                "http.response.status_code": 503,
                "event.duration": 1_500_500_000,
                "tags": ["slow_request", "http"],
            },
            id="numeric-strings-and-slow",
        ),
        pytest.param(
            {"method": "GET", "url": "/a?", "statusCode": "OK", "latency": "fast"},
            {
                "http.request.method": "GET",
                "url.original": "/a?",
                "url.path": "/a",
                "statusCode": "OK",
                "latency": "fast",
                "tags": ["http"],
            },
            id="non-numeric-status-and-duration-left",
        ),
        pytest.param(
            {"method": "DELETE", "url": "https://api.example.test/v1/items/9?force=1", "status": True},
            {
                "http.request.method": "DELETE",
                "url.original": "https://api.example.test/v1/items/9?force=1",
                "url.path": "/v1/items/9",
                "url.query": "force=1",
                "status": True,
                "tags": ["http"],
            },
            id="full-url-and-bool-status",
        ),
        pytest.param(
            {"method": "GET", "url": "/x", "responseTime": -4, "status": 1200},
            {
                "http.request.method": "GET",
                "url.original": "/x",
                "url.path": "/x",
                "responseTime": -4,
                "status": 1200,
                "tags": ["http"],
            },
            id="negative-duration-and-impossible-status-left",
        ),
        pytest.param(
            {"method": "GET", "url": "/x", "responseTime": 1000},
            {
                "http.request.method": "GET",
                "url.original": "/x",
                "url.path": "/x",
                "event.duration": 1_000_000_000,
                "tags": ["http"],
            },
            id="exactly-at-threshold-not-slow",
        ),
        pytest.param(
            {"status": 200, "responseTime": 5000},
            {"status": 200, "responseTime": 5000},
            id="no-method-no-url",
        ),
        pytest.param(
            {"method": "GET", "status": 200},
            {"method": "GET", "status": 200},
            id="method-without-url",
        ),
        pytest.param(
            {"method": "GET", "url": 42, "status": 200},
            {"method": "GET", "url": 42, "status": 200},
            id="url-is-a-number",
        ),
        pytest.param(
            {"method": ["GET"], "url": "/x"},
            {"method": ["GET"], "url": "/x"},
            id="method-is-a-list",
        ),
        pytest.param(
            {"req": "GET /x", "res": "200"},
            {"req": "GET /x", "res": "200"},
            id="req-is-a-string",
        ),
        pytest.param(
            {"method": "GET", "url": "", "status": 200},
            {"method": "GET", "url": "", "status": 200},
            id="empty-url",
        ),
    ],
)
def test_request_shapes_map_to_ecs(event: dict[str, Any], expected: dict[str, Any]) -> None:
    assert tag_default(event) == expected


@pytest.mark.parametrize(
    ("url", "path", "query"),
    [
        ("/a/b", "/a/b", None),
        ("/a/b?x=1&y=2", "/a/b", "x=1&y=2"),
        ("/a?b?c", "/a", "b?c"),
        ("/a?", "/a", None),
        ("https://host.test/p/q?r=1", "/p/q", "r=1"),
        ("http://host.test", "/", None),
        ("http://[::1/x", "http://[::1/x", None),
        ("relative/path?k=v", "relative/path", "k=v"),
        ("*", "*", None),
    ],
)
def test_split_url(url: str, path: str, query: str | None) -> None:
    assert split_url(url) == (path, query)


def test_slow_threshold_is_configurable() -> None:
    tag = TagHttp(TagHttp.Config(slow_request_ms=100))
    assert tag({"method": "GET", "url": "/", "responseTime": 101})["tags"] == ["slow_request", "http"]
    assert tag({"method": "GET", "url": "/", "responseTime": 100})["tags"] == ["http"]


def test_configured_aliases_replace_the_defaults() -> None:
    tag = TagHttp(TagHttp.Config(method_fields=("verb",), url_fields=("target",), status_fields=("code",)))
    event = tag({"verb": "put", "target": "/t", "code": 201, "method": "GET"})
    assert event == {
        "method": "GET",
        "http.request.method": "PUT",
        "url.original": "/t",
        "url.path": "/t",
        "http.response.status_code": 201,
        "tags": ["http"],
    }


@pytest.mark.parametrize(
    ("field", "value", "nanos", "slow"),
    [
        ("duration", 1_500_000_000, 1_500_000_000, True),
        ("duration", 400_000, 400_000, False),
        ("latency", 0.012, 12_000_000, False),
        ("latency", 2.5, 2_500_000_000, True),
        ("latency", "1.5", 1_500_000_000, True),
        ("responseTime", 12, 12_000_000, False),
    ],
)
def test_duration_fields_are_read_in_their_unit(field: str, value: Any, nanos: int, slow: bool) -> None:
    event = tag_default({"method": "GET", "path": "/x", field: value})
    assert event["event.duration"] == nanos
    assert ("slow_request" in event["tags"]) is slow
    assert field not in event


def test_a_duration_unit_can_be_configured() -> None:
    tag = TagHttp(TagHttp.Config(duration_fields=("took:us", "elapsed")))
    assert tag({"method": "GET", "url": "/", "took": 2500})["event.duration"] == 2_500_000
    assert tag({"method": "GET", "url": "/", "elapsed": 3})["event.duration"] == 3_000_000


def test_an_unknown_duration_unit_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="unit must be one of"):
        TagHttp.Config(duration_fields=("took:fortnights",))


@pytest.mark.parametrize(
    ("text", "nanos"),
    [
        ("1.5s", 1_500_000_000),
        ("250ms", 250_000_000),
        ("12µs", 12_000),
        ("12us", 12_000),
        ("400ns", 400),
        ("1m2.5s", 62_500_000_000),
        ("1h0m0s", 3_600_000_000_000),
        ("0s", 0),
    ],
)
def test_a_go_duration_string_is_read_whatever_the_fields_unit(text: str, nanos: int) -> None:
    for field in ("responseTime", "latency", "duration"):
        event = tag_default({"method": "GET", "path": "/x", field: text})
        assert event["event.duration"] == nanos, field


@pytest.mark.parametrize("text", ["fast", "1.5", "s", "1.5 s", "-1s", "1x", "ms", "1.2.3s", "1s2"])
def test_text_that_is_not_a_duration_stays_in_its_field(text: str) -> None:
    event = tag_default({"method": "GET", "path": "/x", "responseTime": text})
    if text == "1.5":
        assert event["event.duration"] == 1_500_000
    else:
        assert event["responseTime"] == text
        assert "event.duration" not in event
