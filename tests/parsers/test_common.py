"""map_common_fields: user, client, user agent, trace and service under their ECS names."""

from __future__ import annotations

from typing import Any

import pytest

from parsers.common import MapCommonFields

map_default = MapCommonFields()


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"userId": 42}, {"user.id": "42"}),
        ({"user_id": "u-1"}, {"user.id": "u-1"}),
        ({"user.id": 7}, {"user.id": "7"}),
        ({"user": {"id": 7, "name": "ann"}}, {"user": {"name": "ann"}, "user.id": "7"}),
        ({"user": {"id": 7}}, {"user.id": "7"}),
        ({"userId": True}, {"userId": True}),
        ({"userId": 1.5, "user_id": "b"}, {"userId": 1.5, "user.id": "b"}),
        ({"ip": "10.0.0.1"}, {"client.ip": "10.0.0.1"}),
        ({"remote_addr": "::1"}, {"client.ip": "::1"}),
        ({"client_ip": "192.0.2.1", "ip": {"v4": "x"}}, {"ip": {"v4": "x"}, "client.ip": "192.0.2.1"}),
        ({"userAgent": "curl/8"}, {"user_agent.original": "curl/8"}),
        ({"user_agent": "Mozilla/5.0"}, {"user_agent.original": "Mozilla/5.0"}),
        ({"ua": "bot"}, {"user_agent.original": "bot"}),
        (
            {"req": {"remoteAddress": "::1", "headers": {"user-agent": "curl/8", "host": "h"}}},
            {"req": {"headers": {"host": "h"}}, "client.ip": "::1", "user_agent.original": "curl/8"},
        ),
        ({"trace_id": "abc", "span_id": "def"}, {"trace.id": "abc", "span.id": "def"}),
        ({"traceId": "abc", "spanId": "def"}, {"trace.id": "abc", "span.id": "def"}),
        ({"trace": {"id": "abc"}, "span": {"id": "def"}}, {"trace.id": "abc", "span.id": "def"}),
        ({"service": "checkout"}, {"service.name": "checkout"}),
        ({"service": {"name": "checkout", "version": "1"}}, {"service": {"version": "1"}, "service.name": "checkout"}),
        ({"service_name": "a"}, {"service.name": "a"}),
        ({"app": "b"}, {"service.name": "b"}),
        ({"app": ["b"]}, {"app": ["b"]}),
        ({"service": ""}, {"service": ""}),
        ({"message": "nothing to map"}, {"message": "nothing to map"}),
    ],
)
def test_common_fields_map_to_ecs(event: dict[str, Any], expected: dict[str, Any]) -> None:
    assert map_default(event) == expected


def test_configured_service_applies_only_to_events_without_one() -> None:
    map_fields = MapCommonFields(MapCommonFields.Config(service="billing"))
    assert map_fields({"message": "m"}) == {"message": "m", "service.name": "billing"}
    assert map_fields({"app": "web"}) == {"service.name": "web"}
    assert map_fields({"service.name": "api"}) == {"service.name": "api"}


def test_configured_aliases_replace_the_defaults() -> None:
    map_fields = MapCommonFields(MapCommonFields.Config(user_id_fields=("account.owner",)))
    assert map_fields({"account": {"owner": 9}, "userId": 1}) == {"userId": 1, "user.id": "9"}
