"""The one client factory and the one reason extractor, without a server."""

from __future__ import annotations

import json

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


def test_the_bulk_writers_client_sends_a_ready_body_as_is_and_reads_answers_like_the_stdlib() -> None:
    """The sink's bodies are built once as bytes: the client must not copy them line by line again."""
    client = elasticsearch_client(ConnectionConfig(hosts=["http://127.0.0.1:9"]), max_retries=0, bulk_writer=True)
    try:
        serializers = client.transport.serializers
        body = b'{"index":{"_index":"logs-2026.11.20","_id":"x"}}\n{"message":"caf\xc3\xa9 \\ud800"}\n'
        assert serializers.dumps(body, "application/x-ndjson") is body
        assert serializers.dumps([{"a": 1}], "application/x-ndjson") == b'{"a":1}\n'
        answer = b'{"errors":true,"items":[{"index":{"status":201}},{"index":{"status":400,"error":{"type":"x"}}}]}'
        assert serializers.loads(answer, "application/json") == json.loads(answer)
        clean = b'{"errors":false,"items":[' + b",".join([b'{"index":{"status":201}}'] * 3) + b"]}"
        assert serializers.loads(clean, "application/json") == {"errors": False}
        unfiltered = b'{"took":3,"errors":false,"items":[{"index":{"status":201}}]}'
        assert serializers.loads(unfiltered, "application/json") == json.loads(unfiltered)
    finally:
        client.close()
