"""map_common_fields: user, client, user agent, trace and service under their ECS names."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parsers.common import MapCommonFields, split_host_port

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


@pytest.mark.parametrize(
    ("address", "ip", "port"),
    [
        ("127.0.0.1:36274", "127.0.0.1", 36274),
        ("[::1]:80", "::1", 80),
        ("[2001:db8::7]:8443", "2001:db8::7", 8443),
        ("[::1]", "::1", None),
        ("::ffff:127.0.0.1", "::ffff:127.0.0.1", None),
        ("10.0.0.1", "10.0.0.1", None),
        ("web-1:8080", "web-1", 8080),
        ("10.0.0.1:99999", "10.0.0.1:99999", None),
        ("10.0.0.1:http", "10.0.0.1:http", None),
    ],
)
def test_an_address_with_a_port_is_split_into_ip_and_port(address: str, ip: str, port: int | None) -> None:
    event = MapCommonFields()({"remote_addr": address})
    assert event.get("client.ip") == ip
    assert event.get("client.port") == port
    assert "remote_addr" not in event


def test_a_separate_port_field_fills_the_port_the_address_lacks() -> None:
    event = MapCommonFields()({"req": {"remoteAddress": "127.0.0.1", "remotePort": 53122}})
    assert event == {"client.ip": "127.0.0.1", "client.port": 53122}
    both = MapCommonFields()({"remote_addr": "[::1]:80", "remote_port": 7})
    assert both == {"client.ip": "::1", "client.port": 80, "remote_port": 7}


@given(st.ip_addresses(), st.integers(0, 65535))
def test_any_ip_with_a_port_splits_back_into_both(ip: Any, port: int) -> None:
    address = f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"
    assert split_host_port(address) == (str(ip), port)


@given(st.ip_addresses())
def test_any_ip_without_a_port_comes_back_whole(ip: Any) -> None:
    assert split_host_port(str(ip)) == (str(ip), None)
