"""TemplateEndpoint: which path an event's endpoint comes from and how id-like segments are templated."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from enrich.endpoint import TemplateEndpoint, extract_path, route_template

UUID_LOWER = "3f2a9c1d-4e5b-4a7f-8c9d-0e1f2a3b4c5d"
UUID_UPPER = UUID_LOWER.upper()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v1/users/8812", "/api/v1/users/{id}"),
        ("/api/v1/users/8812?tab=2", "/api/v1/users/{id}"),
        (f"/api/v1/sessions/{UUID_LOWER}", "/api/v1/sessions/{id}"),
        (f"/api/v1/sessions/{UUID_UPPER}", "/api/v1/sessions/{id}"),
        ("/files/00000000-0000-0000-0000-000000000000", "/files/{id}"),
        ("/blobs/0123456789abcdef", "/blobs/{id}"),
        ("/blobs/0123456789ABCDEF0123", "/blobs/{id}"),
        ("/words/deadbeefcafebab", "/words/deadbeefcafebab"),
        ("/api/v1/users/8812/orders/3f2a9c1d4e5b6a7f8c9d", "/api/v1/users/{id}/orders/{id}"),
        ("/api/v2/items/v2", "/api/v2/items/v2"),
        ("/health", "/health"),
        ("/", "/"),
        ("/?q=1", "/"),
        ("/users/12/", "/users/{id}/"),
        ("//users//12", "/users/{id}"),
        ("/a//b//", "/a/b/"),
        ("/page/1#section", "/page/{id}"),
        ("/users/١٢٣", "/users/١٢٣"),
        ("https://shop.example.com/cart/991?ref=mail", "/cart/{id}"),
        ("http://localhost:8080/api/v1/users/5", "/api/v1/users/{id}"),
        ("https://example.com", "/"),
        ("https://example.com?next=/users/1", "/"),
        ("/api/v1/users/{id}", "/api/v1/users/{id}"),
    ],
)
def test_default_templating(path: str, expected: str) -> None:
    assert route_template(path) == expected
    assert TemplateEndpoint()({"url.original": path})["endpoint"] == expected


@pytest.mark.parametrize("value", ["users/1", "-", "*", "GET", "mailto:a@b.c", "://x/y"])
def test_values_without_path_are_returned_unchanged_by_template(value: str) -> None:
    assert route_template(value) == value


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"message": "no request here"},
        {"url.original": ""},
        {"url.original": "not-a-path"},
        {"url.original": 42},
        {"path": None},
        {"url": {"path": "/users/1"}},
        {"url.path": ["/users/1"]},
    ],
)
def test_no_endpoint_without_a_path(event: dict[str, Any]) -> None:
    assert "endpoint" not in TemplateEndpoint()(dict(event))


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"url.path": "/a/1", "url.original": "/b/2", "path": "/c/3", "url": "/d/4"}, "/a/{id}"),
        ({"url.original": "/b/2?x=1", "path": "/c/3", "url": "/d/4"}, "/b/{id}"),
        ({"path": "/c/3", "url": "/d/4"}, "/c/{id}"),
        ({"url": "https://h/d/4"}, "/d/{id}"),
        ({"url.path": "", "url.original": "/b/2"}, "/b/{id}"),
        ({"url.path": 7, "path": "/c/3"}, "/c/{id}"),
        ({"url.original": "relative/2", "path": "/c/3"}, "/c/{id}"),
    ],
)
def test_path_source_precedence(event: dict[str, Any], expected: str) -> None:
    assert TemplateEndpoint()(event)["endpoint"] == expected


ROUTES = (
    "/api/v1/chat/{chatId}/messages",
    "/api/v1/users/{userId}",
    "/api/v1/users/me",
    "/static/{file}",
)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v1/chat/abc-def/messages", "/api/v1/chat/{chatId}/messages"),
        ("/api/v1/chat/17/messages?limit=5", "/api/v1/chat/{chatId}/messages"),
        ("/api/v1/chat/17/messages/", "/api/v1/chat/{chatId}/messages"),
        ("/api/v1/users/me", "/api/v1/users/me"),
        ("/api/v1/users/jdoe", "/api/v1/users/{userId}"),
        ("/static/app.js", "/static/{file}"),
        ("/api/v1/chat/17/members", "/api/v1/chat/{id}/members"),
        ("/api/v1/chat/17", "/api/v1/chat/{id}"),
        ("/api/v1/chat/{chatId}/messages", "/api/v1/chat/{chatId}/messages"),
    ],
)
def test_configured_routes_win(path: str, expected: str) -> None:
    processor = TemplateEndpoint(TemplateEndpoint.Config(routes=ROUTES))
    assert processor.template(path) == expected
    assert processor({"url.original": path})["endpoint"] == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/orders/ORD-2024-0001", "/orders/{id}"),
        ("/orders/ord-2024-0001", "/orders/ord-2024-0001"),
        ("/users/jdoe/avatar", "/users/{id}/avatar"),
        ("/users/jdoe.png", "/users/jdoe.png"),
        ("/users/42", "/users/{id}"),
    ],
)
def test_configured_id_patterns_match_whole_segments(path: str, expected: str) -> None:
    config = TemplateEndpoint.Config(id_patterns=(r"ORD-\d{4}-\d+", r"[a-z]{4}"))
    assert TemplateEndpoint(config).template(path) == expected


def test_configured_instance_leaves_module_default_alone() -> None:
    TemplateEndpoint(TemplateEndpoint.Config(id_patterns=(r"[a-z]+",)))
    assert route_template("/users/jdoe") == "/users/jdoe"


@pytest.mark.parametrize("cache_size", [0, 2])
def test_results_do_not_depend_on_the_cache(cache_size: int) -> None:
    processor = TemplateEndpoint(TemplateEndpoint.Config(cache_size=cache_size))
    paths = [f"/u/{i}/x" for i in range(5)] * 3 + ["/u/abc/x"]
    assert [processor.template(p) for p in paths] == ["/u/{id}/x"] * 15 + ["/u/abc/x"]


@pytest.mark.parametrize(
    "options",
    [
        {"id_patterns": ("([a-z",)},
        {"routes": ("api/v1/users",)},
        {"unknown_option": True},
    ],
)
def test_invalid_config_is_rejected(options: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TemplateEndpoint.Config(**options)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/a/b?c", "/a/b"),
        ("/a#b?c", "/a"),
        ("https://h:1/p/q?x#y", "/p/q"),
        ("https://h#frag/ment", "/"),
        ("no path", None),
    ],
)
def test_extract_path(value: str, expected: str | None) -> None:
    assert extract_path(value) == expected
