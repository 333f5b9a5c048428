"""The API routes the web page uses (histogram, fields, context, export, saved searches, tail), on both backends.

Answers are checked against the corpus's truths (plain Python over the generated records) and DuckDB's
against Elasticsearch's for the same request.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from logferry.components import query_app
from logferry.config import Settings
from query.backend import DuckDBBackend, ElasticsearchBackend
from query.filters import Filters, build_filters
from query.follow import PAGE, Follow
from query.saved import FileSavedSearches
from query.timerange import histogram_width
from store.day_store import DayStore
from tests.query.query_corpus import END, START, Truth, in_range, load_duckdb

pytestmark = pytest.mark.integration
RANGE = {"from": START.isoformat(), "to": END.isoformat()}


def test_histogram_counts_every_matching_event_by_level(api: TestClient, truths: list[Truth]) -> None:
    body = api.get("/api/v1/histogram", params=RANGE).json()
    assert 60 <= len(body["buckets"]) <= 120
    assert body["total"] == len(truths) == sum(b["count"] for b in body["buckets"])
    by_level: Counter[str] = Counter()
    for b in body["buckets"]:
        assert sum(b["series"].values()) == b["count"]
        by_level.update(b["series"])
    assert {k: n for k, n in by_level.items() if n} == dict(Counter(t.level for t in truths))


def test_histogram_of_a_filter_matches_the_events_total(api: TestClient, truths: list[Truth]) -> None:
    params = {**RANGE, "user": "user_3", "level": "error"}
    body = api.get("/api/v1/histogram", params=params).json()
    expected = sum(1 for t in truths if t.user == "user_3" and t.level == "error")
    assert body["total"] == expected == api.get("/api/v1/events", params=params).json()["total"]
    assert sum(b["series"].get("error", 0) for b in body["buckets"]) == expected


@pytest.mark.parametrize("hours", [0.25, 1, 24, 24 * 7, 24 * 30])
def test_histogram_width_gives_60_to_120_bars(hours: float) -> None:
    end = dt.datetime(2026, 3, 11, 13, 7, 5, tzinfo=dt.UTC)
    start = end - dt.timedelta(hours=hours)
    from query.results import bucket_starts

    assert 60 <= len(bucket_starts(start, end, histogram_width(start, end))) <= 120


def test_fields_count_a_sample_of_the_newest_events(api: TestClient, truths: list[Truth]) -> None:
    body = api.get("/api/v1/fields", params={**RANGE, "sample": 200, "top": 3}).json()
    newest = sorted(truths, key=lambda t: t.ts, reverse=True)[:200]
    assert (body["total"], body["sampled"]) == (len(truths), 200)
    fields = {f["name"]: f for f in body["fields"]}
    assert fields["log.level"]["count"] == 200
    expected = sorted(Counter(t.level for t in newest).items(), key=lambda kv: (-kv[1], kv[0]))[:3]
    assert [(v["value"], v["count"]) for v in fields["log.level"]["top"]] == expected
    assert fields["user.id"]["count"] == sum(1 for t in newest if t.user)


def test_context_is_the_lines_around_the_event_in_offset_order(api: TestClient, truths: list[Truth]) -> None:
    t = truths[1000]
    page = api.get("/api/v1/events", params={**RANGE, "q": f"log.offset:{t.offset}"}).json()
    (doc,) = page["events"]
    body = api.get(f"/api/v1/events/{doc['event']['id']}/context", params={"n": 5, "at": doc["@timestamp"]}).json()
    window = [x.offset for x in truths if abs((x.ts - t.ts).total_seconds()) <= 86400]
    before = sorted(o for o in window if o < t.offset)[-5:]
    after = sorted(o for o in window if o > t.offset)[:5]
    assert [d["log"]["offset"] for d in body["before"]] == before
    assert [d["log"]["offset"] for d in body["after"]] == after
    assert body["source"] == {"host.name": doc["host"]["name"], "log.file.path": "corpus.log", "log.offset": t.offset}
    # Without the time, the event is found in every day.
    assert api.get(f"/api/v1/events/{doc['event']['id']}/context", params={"n": 5}).json() == body


def test_context_of_an_unknown_event_is_404(api: TestClient) -> None:
    assert api.get("/api/v1/events/nope/context").status_code == 404


def test_export_csv_has_the_rows_the_api_gives(api: TestClient) -> None:
    params = {**RANGE, "level": "error"}
    resp = api.get("/api/v1/export", params={**params, "format": "csv", "limit": 1500})
    assert resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.text)))
    events, cursor = [], None
    while True:
        extra = {"cursor": cursor} if cursor else {}
        page = api.get("/api/v1/events", params={**params, "size": 1000, **extra}).json()
        events += page["events"]
        cursor = page["next"]
        if cursor is None:
            break
    assert int(resp.headers["x-total-count"]) == len(events)
    assert len(rows) == min(1500, len(events))
    assert [r["@timestamp"] for r in rows] == [e["@timestamp"] for e in events[: len(rows)]]
    assert [r["message"] for r in rows] == [e["message"] for e in events[: len(rows)]]


def test_export_ndjson_stops_at_its_row_bound(api: TestClient) -> None:
    resp = api.get("/api/v1/export", params={**RANGE, "format": "ndjson", "limit": 1234})
    docs = [orjson.loads(line) for line in resp.content.splitlines()]
    assert len(docs) == 1234 and resp.headers["x-row-limit"] == "1234"
    assert api.get("/api/v1/export", params={**RANGE, "limit": 100_001}).status_code == 422


def test_saved_searches_round_trip(api: TestClient) -> None:
    params = {"q": 'userId:"user_3"', "level": "error", "from": "now-7d", "columns": "message"}
    assert api.put("/api/v1/saved-searches/user 3 errors", json={"params": params}).status_code == 200
    assert api.get("/api/v1/saved-searches/user 3 errors").json()["params"] == params
    assert "user 3 errors" in [s["name"] for s in api.get("/api/v1/saved-searches").json()]
    assert api.put("/api/v1/saved-searches/x", json={"params": {"bogus": "1"}}).status_code == 422
    assert api.delete("/api/v1/saved-searches/user 3 errors").status_code == 204
    assert api.get("/api/v1/saved-searches/user 3 errors").status_code == 404


def test_both_backends_answer_the_page_the_same(corpus_settings: Settings, es_corpus: tuple[Any, str]) -> None:
    client, prefix = es_corpus
    duck = TestClient(query_app(corpus_settings, DuckDBBackend(DayStore(corpus_settings.data_dir / "events"))))
    es = TestClient(query_app(corpus_settings, ElasticsearchBackend(client, prefix)))
    requests: list[tuple[str, dict[str, Any]]] = [
        ("/api/v1/histogram", RANGE),
        ("/api/v1/histogram", {**RANGE, "q": "responseTime:>2000"}),
        ("/api/v1/fields", {**RANGE, "endpoint": "/api/v1/likes"}),
        ("/api/v1/export", {**RANGE, "status": "5xx", "format": "ndjson"}),
    ]
    for route, params in requests:
        a, b = duck.get(route, params=params), es.get(route, params=params)
        assert a.status_code == b.status_code == 200
        assert (a.json() if route != "/api/v1/export" else a.content) == (
            b.json() if route != "/api/v1/export" else b.content
        ), route
    doc = duck.get("/api/v1/events", params={**RANGE, "size": 1, "q": "log.offset:77"}).json()["events"][0]
    path = f"/api/v1/events/{doc['event']['id']}/context"
    assert duck.get(path, params={"n": 7}).json() == es.get(path, params={"n": 7}).json()


def test_tail_sends_each_new_matching_event_once(tmp_path: Path, corpus_docs: list[bytes]) -> None:
    """Events stamped now are stored in two batches; the stream sends the matching ones, each once."""
    store = DayStore(tmp_path / "events")
    backend = DuckDBBackend(store)
    now = dt.datetime.now(dt.UTC)

    def docs(first: int, count: int) -> list[bytes]:
        out = []
        for i in range(first, first + count):
            d = orjson.loads(corpus_docs[i])
            d["@timestamp"] = (now + dt.timedelta(milliseconds=i)).isoformat().replace("+00:00", "Z")
            d["event"]["id"] = f"tail-{i}"
            out.append(orjson.dumps(d))
        return out

    f = build_filters(level="error")

    def search(start: dt.datetime, end: dt.datetime, cursor: str | None) -> dict[str, Any]:
        return backend.search_events(Filters(start, end, f.expr), PAGE, "asc", cursor)

    tail = Follow(search, now)
    assert tail.poll(dt.datetime.now(dt.UTC)) == ([], 0)
    load_duckdb(store, docs(0, 50))
    first, _ = tail.poll(dt.datetime.now(dt.UTC))
    backend.close()  # one process does not open a file read-only and read-write at once
    load_duckdb(store, docs(50, 50))
    second, _ = tail.poll(dt.datetime.now(dt.UTC))
    expected = [f"tail-{i}" for i in range(100) if orjson.loads(corpus_docs[i])["log"]["level"] == "error"]
    assert [d["event"]["id"] for d in first + second] == expected
    assert tail.poll(dt.datetime.now(dt.UTC)) == ([], 0)


def test_file_saved_searches_survive_a_new_process(tmp_path: Path) -> None:
    FileSavedSearches(tmp_path / "s.json").put("a", {"q": "x"})
    assert FileSavedSearches(tmp_path / "s.json").get("a")["params"] == {"q": "x"}  # type: ignore[index]


def test_histogram_excludes_events_outside_the_range(api: TestClient, truths: list[Truth]) -> None:
    start, end = START + dt.timedelta(hours=5), START + dt.timedelta(hours=7)
    body = api.get("/api/v1/histogram", params={"from": start.isoformat(), "to": end.isoformat()}).json()
    assert body["total"] == len(in_range(truths, start, end))
