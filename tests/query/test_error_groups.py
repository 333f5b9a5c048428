"""Error groups and their states on both backends: the answers computed from the corpus parameters.

The corpus (tests/query/query_corpus.py) says of each error event what fails: its service and its
error type, or, without one, what its message says (an HTTP error's "request <path> -> <status>", a
misc line's fixed text). That is the group it belongs to; every number below is computed from the
records, never by the code under test.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.timefmt import iso_ms
from logferry.components import query_app
from logferry.config import load_settings
from query.backend import DuckDBBackend, ElasticsearchBackend
from store.day_store import DayStore
from tests.query.query_corpus import (
    END,
    ERROR_LEVELS,
    START,
    Truth,
    documents,
    es_client_or_skip,
    load_duckdb,
    load_elasticsearch,
)

pytestmark = pytest.mark.integration

RANGE = {"from": START.isoformat(), "to": END.isoformat()}
DAY2 = {"from": (START + dt.timedelta(days=1)).isoformat(), "to": END.isoformat()}
GROUPS = "/api/v1/errors/groups"


def truth_group(t: Truth) -> tuple[str, str] | None:
    """(service, what fails) of an error event; None for other events."""
    if t.level not in ERROR_LEVELS and t.error_type is None:
        return None
    if t.error_type is not None:
        return t.service, t.error_type
    if t.kind == "http":
        return t.service, "http"
    return t.service, t.message


def group_of_sample(group: dict[str, Any]) -> tuple[str, str]:
    sample = group["sample"]
    kind = sample.get("error", {}).get("type")
    if kind:
        return sample["service"]["name"], kind
    message = sample["message"]
    return sample["service"]["name"], "http" if message.startswith("request ") else message


def get(api: TestClient, **params: Any) -> dict[str, Any]:
    resp = api.get(GROUPS, params=params)
    assert resp.status_code == 200, resp.text
    result: dict[str, Any] = resp.json()
    return result


def by_group(result: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {group_of_sample(g): g for g in result["groups"]}


def expected_groups(truths: list[Truth], start: dt.datetime, end: dt.datetime) -> dict[tuple[str, str], list[Truth]]:
    groups: dict[tuple[str, str], list[Truth]] = defaultdict(list)
    for t in truths:
        key = truth_group(t)
        if key is not None and start <= t.ts < end:
            groups[key].append(t)
    return groups


def test_every_group_with_its_counts_users_endpoints_and_times(api: TestClient, truths: list[Truth]) -> None:
    expected = expected_groups(truths, START, END)
    result = get(api, state="all", limit=500, interval="1h", **RANGE)
    got = by_group(result)
    assert result["total"] == len(expected) == len(got)
    assert set(got) == set(expected)
    for name, events in expected.items():
        group = got[name]
        assert group["count"] == len(events), name
        assert group["users"] == len({t.user for t in events if t.user}), name
        assert group["first_seen"] == iso_ms(min(t.ts for t in events)), name
        assert group["last_seen"] == iso_ms(max(t.ts for t in events)), name
        endpoints = Counter(t.endpoint for t in events if t.endpoint)
        top = sorted(endpoints.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        assert group["endpoints"] == [{"key": k, "count": n} for k, n in top], name
        assert group["services"] == [{"key": name[0], "count": len(events)}]
        assert sum(group["counts"]) == len(events)
        hourly = Counter(int(t.ts.timestamp() * 1000) // 3_600_000 * 3_600_000 for t in events)
        starts = [
            int(dt.datetime.fromisoformat(b.replace("Z", "+00:00")).timestamp() * 1000) for b in result["buckets"]
        ]
        assert group["counts"] == [hourly.get(s, 0) for s in starts], name
        assert group["sample"]["@timestamp"] == group["last_seen"]
        assert group["sample"]["error"]["grouping_key"] == group["key"]
        assert group["title"] == group["sample"]["error"]["grouping_name"]
        assert not group["new"] or group["first_seen"] >= RANGE["from"][:10]


@pytest.mark.parametrize("sort", ["count", "users", "last", "first"])
def test_sorted_by_count_users_last_or_first_seen(api: TestClient, truths: list[Truth], sort: str) -> None:
    expected = expected_groups(truths, START, END)
    keys = {group_of_sample(g): g["key"] for g in get(api, state="all", limit=500, **RANGE)["groups"]}

    def order(name: tuple[str, str]) -> tuple[Any, ...]:
        events = expected[name]
        if sort == "count":
            return (-len(events), keys[name])
        if sort == "users":
            return (-len({t.user for t in events if t.user}), -len(events), keys[name])
        if sort == "last":
            return (-max(t.ts for t in events).timestamp(), keys[name])
        return (-min(t.ts for t in events).timestamp(), keys[name])

    got = [group_of_sample(g) for g in get(api, state="all", limit=4, sort=sort, **RANGE)["groups"]]
    assert got == sorted(expected, key=order)[:4]


def test_the_filters_every_endpoint_takes_apply(api: TestClient, truths: list[Truth]) -> None:
    mine = [t for t in truths if t.user == "user_3"]
    expected = expected_groups(mine, START, END)
    got = by_group(get(api, state="all", limit=500, user="user_3", **RANGE))
    assert {name: g["count"] for name, g in got.items()} == {name: len(e) for name, e in expected.items()}
    billing = by_group(get(api, state="all", limit=500, service="billing", **RANGE))
    assert {name[0] for name in billing} == {"billing"}


def test_new_means_first_seen_inside_the_range(api: TestClient, truths: list[Truth]) -> None:
    second_day = START + dt.timedelta(days=1)
    seen = expected_groups(truths, second_day, END)
    ever = expected_groups(truths, START, END)
    new = {name for name in seen if min(t.ts for t in ever[name]) >= second_day}
    result = get(api, state="all", limit=500, **DAY2)
    assert {name for name, g in by_group(result).items() if g["new"]} == new
    assert {group_of_sample(g) for g in get(api, state="new", limit=500, **DAY2)["groups"]} == new
    for group in result["groups"]:  # first seen is the whole store's, not the range's
        assert group["first_seen"] == iso_ms(min(t.ts for t in ever[group_of_sample(group)]))


def test_limit_keeps_the_total(api: TestClient) -> None:
    every = get(api, state="all", limit=500, **RANGE)
    two = get(api, state="all", limit=2, **RANGE)
    assert len(two["groups"]) == 2 and two["total"] == every["total"]


def test_resolve_and_ignore_hide_a_group_until_it_is_opened_again(api: TestClient) -> None:
    groups = get(api, state="all", limit=500, **RANGE)["groups"]
    first, second = groups[0]["key"], groups[1]["key"]
    try:
        resolved = api.put(f"{GROUPS}/{first}/state", json={"state": "resolved"})
        assert resolved.status_code == 200 and resolved.json()["state"] == "resolved"
        assert api.put(f"{GROUPS}/{second}/state", json={"state": "ignored"}).json()["state"] == "ignored"
        open_keys = {g["key"] for g in get(api, limit=500, **RANGE)["groups"]}
        assert first not in open_keys and second not in open_keys
        assert len(open_keys) == len(groups) - 2
        (shown,) = get(api, state="resolved", limit=500, **RANGE)["groups"]
        assert shown["key"] == first and shown["state"] == "resolved" and not shown["regressed"]
        assert [g["key"] for g in get(api, state="ignored", limit=500, **RANGE)["groups"]] == [second]
    finally:
        for key in (first, second):
            assert api.put(f"{GROUPS}/{key}/state", json={"state": "open"}).json()["state"] == "open"
    assert len(get(api, limit=500, **RANGE)["groups"]) == len(groups)


def test_a_wrong_key_or_state_is_refused(api: TestClient) -> None:
    assert api.put(f"{GROUPS}/not-a-key/state", json={"state": "resolved"}).status_code == 422
    assert api.put(f"{GROUPS}/{'a' * 32}/state", json={"state": "fixed"}).status_code == 422
    assert api.get(GROUPS, params={"sort": "loudest"}).status_code == 422


# -- regression: a resolved group seen again ---------------------------------------------------------


def failing(offset: int, when: dt.datetime) -> Truth:
    return Truth(offset=offset, ts=when, kind="misc", level="error", service="api", message="disk quota exceeded")


@pytest.fixture(params=["duckdb", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def fresh_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """An empty store of either backend: ``load(docs)`` adds documents and returns an API over it."""
    settings = load_settings(None, data_dir=tmp_path)
    if request.param == "duckdb":
        store = DayStore(tmp_path / "events")
        backends: list[DuckDBBackend] = []

        def load_embedded(docs: list[bytes]) -> TestClient:
            for backend in backends:
                backend.close()  # the writer's turn: this process holds the day files read-only
            load_duckdb(store, docs)
            backends.append(DuckDBBackend(store))
            return TestClient(query_app(settings, backends[-1]))

        yield load_embedded
        for backend in backends:
            backend.close()
        return
    client = es_client_or_skip(request)
    prefix = f"t-groups-{uuid.uuid4().hex[:10]}"

    def load_indexed(docs: list[bytes]) -> TestClient:
        load_elasticsearch(client, prefix, docs)
        return TestClient(query_app(settings, ElasticsearchBackend(client, prefix)))

    try:
        yield load_indexed
    finally:
        client.indices.delete(index=f"{prefix}-*", ignore_unavailable=True, allow_no_indices=True)
        client.indices.delete(index=f"{prefix}-error-groups", ignore_unavailable=True)
        client.indices.delete_index_template(name=prefix, ignore=[404])


def test_a_resolved_group_seen_again_is_regressed(fresh_store: Any) -> None:
    now = dt.datetime.now(dt.UTC)
    api = fresh_store(documents([failing(1, now - dt.timedelta(hours=2)), failing(2, now - dt.timedelta(hours=1))]))
    window = {"from": (now - dt.timedelta(days=1)).isoformat(), "to": (now + dt.timedelta(hours=1)).isoformat()}
    (group,) = get(api, **window)["groups"]
    assert group["new"] and group["count"] == 2 and group["state"] == "open"
    assert api.put(f"{GROUPS}/{group['key']}/state", json={"state": "resolved"}).status_code == 200
    assert get(api, **window)["groups"] == []
    api = fresh_store(documents([failing(3, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5))]))
    (again,) = get(api, **window)["groups"]
    assert again["key"] == group["key"] and again["regressed"] and again["state"] == "regressed"
    assert again["count"] == 3
    assert [g["key"] for g in get(api, state="regressed", **window)["groups"]] == [group["key"]]
