"""The index template: prefix rules (unit) and, on a real Elasticsearch, the mapping behaviour the
query backend and the sink rely on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from core.errors import ConfigError
from elastic.naming import validate_prefix
from elastic.templates import PRIORITY, index_template, install_template
from tests.query.query_corpus import es_client_or_skip


@pytest.mark.parametrize("prefix", ["logferry", "app-logs", "logsapp", "my.app_1"])
def test_valid_prefixes(prefix: str) -> None:
    assert validate_prefix(prefix) == prefix
    assert index_template(prefix)["index_patterns"] == [f"{prefix}-*"]


@pytest.mark.parametrize(
    ("prefix", "why"),
    [
        ("", "empty"),
        ("Logferry", "lowercase"),
        ("-x", "must not start"),
        ("_x", "must not start"),
        ("+x", "must not start"),
        ("a*b", "must not contain"),
        ("a b", "must not contain"),
        ("a:b", "must not contain"),
        ("a,b", "must not contain"),
        ("logs", "data stream"),
        ("logs-app", "data stream"),
        ("logs-app-prod", "data stream"),
        ("metrics-x-y", "data stream"),
        ("traces-a-b", "data stream"),
        ("synthetics-a-b", "data stream"),
        (".hidden", "'.'"),
    ],
)
def test_refused_prefixes(prefix: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why):
        validate_prefix(prefix)


@pytest.fixture()
def es(request: pytest.FixtureRequest) -> Iterator[tuple[Any, str]]:
    client = es_client_or_skip(request)
    prefix = f"t-tpl-{uuid.uuid4().hex[:10]}"
    install_template(client, prefix)
    yield client, prefix
    client.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True)
    client.indices.delete_index_template(name=prefix, ignore=[404])


def _index(client: Any, index: str, doc: dict[str, Any]) -> None:
    client.index(index=index, document=doc, refresh=True)


@pytest.mark.elasticsearch
@pytest.mark.parametrize("first", ["number", "string"])
def test_field_that_is_number_and_string_indexes_in_either_order(es: tuple[Any, str], first: str) -> None:
    client, prefix = es
    index = f"{prefix}-2026.03.10"
    docs: list[dict[str, Any]] = [
        {"@timestamp": "2026-03-10T00:00:00.000Z", "status": 0},
        {"@timestamp": "2026-03-10T00:00:01.000Z", "status": "failed"},
    ]
    for doc in docs if first == "number" else docs[::-1]:
        _index(client, index, doc)

    def count(query: dict[str, Any]) -> int:
        return int(client.count(index=index, query=query)["count"])

    assert count({"term": {"status": "failed"}}) == 1
    assert count({"term": {"status": "0"}}) == 1
    assert count({"range": {"status.num": {"gte": 0, "lte": 1}}}) == 1


@pytest.mark.elasticsearch
def test_object_versus_scalar_conflict_is_rejected(es: tuple[Any, str]) -> None:
    from elasticsearch import BadRequestError

    client, prefix = es
    index = f"{prefix}-2026.03.10"
    _index(client, index, {"@timestamp": "2026-03-10T00:00:00.000Z", "request": {"id": "x"}})
    with pytest.raises(BadRequestError):
        _index(client, index, {"@timestamp": "2026-03-10T00:00:01.000Z", "request": "plain"})


@pytest.mark.elasticsearch
def test_daily_index_gets_the_ecs_mapping(es: tuple[Any, str]) -> None:
    client, prefix = es
    index = f"{prefix}-2026.03.11"
    _index(client, index, {"@timestamp": "2026-03-11T00:00:00.000Z", "message": "hello", "when": "2026-03-11"})
    props = client.indices.get_mapping(index=index)[index]["mappings"]["properties"]
    assert props["@timestamp"]["type"] == "date"
    assert props["message"]["type"] == "text"
    assert props["http"]["properties"]["response"]["properties"]["status_code"]["type"] == "long"
    assert props["client"]["properties"]["ip"]["type"] == "ip"
    assert props["user"]["properties"]["id"] == {"type": "keyword", "ignore_above": 1024}
    assert props["when"]["type"] == "keyword"  # date detection is off
    template = client.indices.get_index_template(name=prefix)["index_templates"][0]["index_template"]
    assert template["priority"] == PRIORITY
