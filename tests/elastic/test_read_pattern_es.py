"""On a real Elasticsearch: the read pattern takes every daily index and neither the dead-letter index
nor another deployment's ``<prefix>-other-<day>``; a long query range counts only this prefix's events."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from elastic.naming import DailyIndex
from elastic.templates import install_template
from logferry.components import query_app
from logferry.config import load_settings
from query.es_backend import MAX_LISTED_INDICES, ElasticsearchBackend

pytestmark = [pytest.mark.integration, pytest.mark.elasticsearch]


def _index_one(client: Elasticsearch, index: str, day: dt.date, message: str) -> None:
    client.index(
        index=index,
        id=message,
        document={"@timestamp": f"{day.isoformat()}T12:00:00.000Z", "message": message, "event": {"id": message}},
    )


@pytest.fixture
def three_kinds_of_index(es_client: Elasticsearch, index_prefix: str) -> DailyIndex:
    """Two daily indices of ``index_prefix``, its dead-letter index, and a daily index of ``<prefix>-other``."""
    daily = DailyIndex(index_prefix)
    other = DailyIndex(f"{index_prefix}-other")
    today = dt.datetime.now(dt.UTC).date()
    install_template(es_client, index_prefix)
    for day in (today, today - dt.timedelta(days=3)):
        _index_one(es_client, daily.name(day), day, f"ours-{day}")
    _index_one(es_client, daily.deadletter, today, "dead")
    _index_one(es_client, other.name(today), today, "foreign")
    es_client.indices.refresh(index=f"{index_prefix}*")
    return daily


def test_the_read_pattern_resolves_to_the_daily_indices_only(
    es_client: Elasticsearch, three_kinds_of_index: DailyIndex
) -> None:
    daily = three_kinds_of_index
    found = es_client.indices.get(index=daily.read_pattern(), allow_no_indices=True).body
    today = dt.datetime.now(dt.UTC).date()
    assert sorted(found) == sorted(daily.name(d) for d in (today, today - dt.timedelta(days=3)))


def test_a_long_range_counts_neither_dead_letters_nor_another_deployments_events(
    es_client: Elasticsearch, three_kinds_of_index: DailyIndex, tmp_path: Path
) -> None:
    daily = three_kinds_of_index
    settings = load_settings(None, data_dir=tmp_path)
    api = TestClient(query_app(settings, ElasticsearchBackend(es_client, daily.prefix)))
    params = {"from": f"now-{MAX_LISTED_INDICES + 10}d", "to": "now+1d", "size": 100}
    events = api.get("/api/v1/events", params=params).json()
    assert sorted(e["message"] for e in events["events"]) == sorted(
        f"ours-{d}" for d in (dt.datetime.now(dt.UTC).date(), dt.datetime.now(dt.UTC).date() - dt.timedelta(days=3))
    )
    assert events["total"] == 2
