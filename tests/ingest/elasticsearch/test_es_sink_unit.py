"""The sink's pure parts, without a server: retry decisions, index names, the bulk body."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from elastic_transport import ApiResponseMeta, ConnectionError, ConnectionTimeout, HttpHeaders, NodeConfig, TlsError
from elasticsearch import ApiError, AuthenticationException, BadRequestError

from core.errors import ConfigError
from ingest.elasticsearch_config import ElasticsearchConfig
from ingest.elasticsearch_sink import (
    DailyIndex,
    ElasticsearchSink,
    action_line,
    backoff,
    bulk_body,
    classify,
    classify_exception,
    deadletter_template,
    elasticsearch_client,
)
from ingest.elasticsearch_template import PRIORITY


@pytest.mark.parametrize(
    ("status", "error_type", "expected"),
    [
        (200, None, "ok"),
        (201, None, "ok"),
        (400, "mapper_parsing_exception", "dead-letter"),
        (400, "document_parsing_exception", "dead-letter"),
        (400, "illegal_argument_exception", "dead-letter"),
        (404, "index_not_found_exception", "dead-letter"),
        (409, "version_conflict_engine_exception", "dead-letter"),
        (413, None, "dead-letter"),
        (408, None, "retry"),
        (429, "es_rejected_execution_exception", "retry"),
        (429, "circuit_breaking_exception", "retry"),
        (429, None, "retry"),
        (500, "exception", "retry"),
        (502, None, "retry"),
        (503, "unavailable_shards_exception", "retry"),
        (504, None, "retry"),
        (403, "cluster_block_exception", "retry"),
        (400, "timeout_exception", "retry"),
        (0, None, "dead-letter"),
    ],
)
def test_classify_item(status: int, error_type: str | None, expected: str) -> None:
    assert classify(status, error_type) == expected


def _api_error(cls: type[ApiError], status: int) -> ApiError:
    meta = ApiResponseMeta(
        status=status, http_version="1.1", headers=HttpHeaders(), duration=0.0, node=NodeConfig("http", "h", 1)
    )
    return cls(message="x", meta=meta, body={"error": {"type": "t", "reason": "r"}})


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ConnectionError("refused"), "retry"),
        (ConnectionTimeout("timed out"), "retry"),
        (ConnectionResetError(), "retry"),
        (_api_error(ApiError, 429), "retry"),
        (_api_error(ApiError, 502), "retry"),
        (_api_error(ApiError, 503), "retry"),
        (_api_error(ApiError, 408), "retry"),
        (_api_error(AuthenticationException, 401), "fail"),
        (_api_error(ApiError, 403), "fail"),
        (_api_error(BadRequestError, 400), "fail"),
        (TlsError("certificate verify failed"), "fail"),
        (ValueError("bug"), "fail"),
    ],
)
def test_classify_whole_request_failure(exc: BaseException, expected: str) -> None:
    assert classify_exception(exc) == expected


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    for attempt in range(1, 8):
        low, high = 0.1 * 2 ** (attempt - 1) * 0.5, 0.1 * 2 ** (attempt - 1)
        assert all(low <= backoff(attempt, 0.1, 100.0) <= high for _ in range(50))
    assert all(2.5 <= backoff(1000, 0.1, 5.0) <= 5.0 for _ in range(50))


def test_daily_index_per_utc_day_of_timestamp() -> None:
    daily = DailyIndex("logferry", "%Y.%m.%d")
    assert daily("2026-11-22T01:02:03.123Z") == "logferry-2026.11.22"
    assert daily("2026-11-21T23:59:59.999Z") == "logferry-2026.11.21"
    assert daily("2026-01-01T00:00:00.000Z") == "logferry-2026.01.01"
    for bad in (None, 1700000000, "", "yesterday", "2026-13-01T00:00:00Z", "2026-1-1"):
        assert daily(bad) is None


def test_daily_index_pattern_is_configurable_and_parses_back() -> None:
    daily = DailyIndex("app", "%Y-%m-%d")
    assert daily("2026-11-22T01:02:03.123Z") == "app-2026-11-22"
    assert daily.day_of("app-2026-11-22") == dt.date(2026, 11, 22)
    dotted = DailyIndex("logferry", "%Y.%m.%d")
    assert dotted.day_of("logferry-2026.11.22") == dt.date(2026, 11, 22)
    for other in ("logferry-deadletter", "logferry-x-2026.11.22", "other-2026.11.22", "logferry-2026.1.2", "logferry"):
        assert dotted.day_of(other) is None


def test_action_line_carries_index_and_event_id() -> None:
    assert orjson.loads(action_line("p-2026.11.22", 'a"b')) == {"index": {"_index": "p-2026.11.22", "_id": 'a"b'}}
    assert orjson.loads(action_line("p-2026.11.22", None)) == {"index": {"_index": "p-2026.11.22"}}


def test_bulk_body_pairs_actions_with_the_documents_bytes_unchanged() -> None:
    docs = [b'{"message":"\xc3\xa9t\xc3\xa9","n":1}', b'{"n":2}', b'{"n":3}']
    actions = [action_line("p-1", f"id{i}") for i in range(3)]
    body = bulk_body(actions, docs, [0, 2])
    lines = body.split(b"\n")
    assert lines == [actions[0], docs[0], actions[2], docs[2], b""]
    assert body.endswith(b"\n")


def test_deadletter_template_never_rejects_and_outranks_the_daily_template() -> None:
    template = deadletter_template("logferry")
    assert template["index_patterns"] == ["logferry-deadletter"]
    assert template["priority"] > PRIORITY
    mappings = template["template"]["mappings"]
    assert mappings["dynamic"] is False
    original = mappings["properties"]["event"]["properties"]["original"]
    assert original["index"] is False and original["doc_values"] is False


def test_client_builder_refuses_tls_options_on_plain_http() -> None:
    with pytest.raises(ConfigError, match="connection settings"):
        elasticsearch_client(ElasticsearchConfig(hosts=["http://127.0.0.1:9"], ca_certs="/etc/ssl/ca.pem"))


def test_config_refuses_two_kinds_of_auth() -> None:
    with pytest.raises(ValueError, match="api_key or username"):
        ElasticsearchConfig(api_key="k", username="u", password="p")


@pytest.mark.parametrize("prefix", ["logs-app", "metrics-x", "Logferry", "-x", "a*b"])
def test_sink_refuses_prefixes_that_collide_or_are_invalid(prefix: str) -> None:
    config = ElasticsearchConfig(hosts=["http://127.0.0.1:9"], index_prefix=prefix)
    with pytest.raises(ConfigError):
        ElasticsearchSink(elasticsearch_client(config), config, None)


@pytest.mark.parametrize("pattern", ["%Y", "%Y.%m", "%Y/%m/%d", "%b-%d-%Y"])
def test_config_refuses_date_patterns_that_do_not_name_one_day(pattern: str) -> None:
    with pytest.raises(ValueError, match="index_date_pattern"):
        ElasticsearchConfig(index_date_pattern=pattern)
