"""The one client factory and the one reason extractor, without a server."""

from __future__ import annotations

import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import BadRequestError

from core.errors import ConfigError
from elastic.connection import ConnectionConfig, elasticsearch_client
from elastic.errors import api_reason, error_reason


def test_client_builder_refuses_tls_options_on_plain_http() -> None:
    with pytest.raises(ConfigError, match="connection settings"):
        elasticsearch_client(ConnectionConfig(hosts=["http://127.0.0.1:9"], ca_certs="/etc/ssl/ca.pem"))


def test_client_carries_auth_timeout_and_retries_as_configured() -> None:
    client = elasticsearch_client(
        ConnectionConfig(hosts=["http://127.0.0.1:9"], api_key="a2V5", request_timeout=7.0), max_retries=0
    )
    try:
        assert client._headers["authorization"] == "ApiKey a2V5"
        assert client._request_timeout == 7.0
        assert client._max_retries == 0 and client._retry_on_timeout is False
    finally:
        client.close()
    basic = elasticsearch_client(ConnectionConfig(username="u", password="p"), retry_on_timeout=True)
    try:
        assert basic._headers["authorization"].startswith("Basic ")
        assert basic._max_retries == 3 and basic._retry_on_timeout is True
    finally:
        basic.close()


def test_config_refuses_two_kinds_of_auth() -> None:
    with pytest.raises(ValueError, match="api_key or username"):
        ConnectionConfig(api_key="k", username="u", password="p")
    with pytest.raises(ValueError, match="without username"):
        ConnectionConfig(password="p")


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ({"type": "mapper_parsing_exception", "reason": "failed to parse [ip]"}, "failed to parse [ip]"),
        (
            {"type": "search_phase_execution_exception", "reason": "all shards failed",
             "root_cause": [{"reason": "bad field"}, {"reason": "bad value"}]},
            "bad field; bad value",
        ),
        ({"type": "x"}, "{'type': 'x'}"),
        ("plain text", "plain text"),
    ],
)  # fmt: skip
def test_error_reason_prefers_root_causes_then_the_reason(error: object, reason: str) -> None:
    assert error_reason(error) == reason


def test_api_reason_reads_the_refusals_body_else_the_exception() -> None:
    meta = ApiResponseMeta(
        status=400, http_version="1.1", headers=HttpHeaders(), duration=0.0, node=NodeConfig("http", "h", 1)
    )
    refused = BadRequestError(message="x", meta=meta, body={"error": {"root_cause": [{"reason": "index exists"}]}})
    assert api_reason(refused) == "index exists"
    assert api_reason(OSError("connection refused")) == "connection refused"
