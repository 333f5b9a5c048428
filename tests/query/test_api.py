"""The API's edges: auth, bad input (422 with a message, never a 500), readiness and metrics."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ingest.batch import Batcher
from ingest.config import BatchConfig
from ingest.deadletter import DeadLetterFile
from ingest.duckdb_sink import DuckDBSink
from logferry.components import query_app
from logferry.config import Settings, load_settings
from query.backend import DuckDBBackend
from store.day_store import DayStore
from tests.query.query_corpus import END, START

pytestmark = pytest.mark.integration
RANGE = {"from": START.isoformat(), "to": END.isoformat()}
KEY = "s3cret-key"


@pytest.fixture(scope="module")
def duck_api(corpus_settings: Settings) -> TestClient:
    return TestClient(query_app(corpus_settings, DuckDBBackend(DayStore(corpus_settings.data_dir / "events"))))


@pytest.fixture(scope="module")
def keyed_api(corpus_settings: Settings) -> TestClient:
    settings = Settings.model_validate(
        {**corpus_settings.model_dump(), "api": {**corpus_settings.api.model_dump(), "api_key": KEY}}
    )
    return TestClient(query_app(settings))


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"X-API-Key": "wrong"}, {"Authorization": f"Basic {KEY}"}],
    ids=["missing", "wrong-bearer", "wrong-x-api-key", "not-bearer"],
)
@pytest.mark.parametrize("route", ["/api/v1/events", "/api/v1/stats/top?field=user", "/metrics", "/readyz"])
def test_missing_or_wrong_key_is_401(keyed_api: TestClient, headers: dict[str, str], route: str) -> None:
    resp = keyed_api.get(route, headers=headers)
    assert resp.status_code == 401
    assert "API key" in resp.json()["detail"]


@pytest.mark.parametrize(
    "headers", [{"Authorization": f"Bearer {KEY}"}, {"X-API-Key": KEY}], ids=["bearer", "x-api-key"]
)
def test_right_key_is_accepted(keyed_api: TestClient, headers: dict[str, str]) -> None:
    resp = keyed_api.get("/api/v1/events", params={**RANGE, "size": 1}, headers=headers)
    assert resp.status_code == 200
    assert resp.json()["total"] > 0


def test_healthz_needs_no_key(keyed_api: TestClient) -> None:
    resp = keyed_api.get("/healthz")
    assert (resp.status_code, resp.json()["status"]) == (200, "ok")


BAD: dict[str, tuple[str, dict[str, Any], str]] = {
    "unknown level": ("/api/v1/events", {"level": "loud"}, "level 'loud'"),
    "bad status": ("/api/v1/events", {"status": "6xx"}, "status '6xx'"),
    "backwards status range": ("/api/v1/events", {"status": "599-400"}, "backwards"),
    "malformed q": ("/api/v1/events", {"q": "level:(error"}, "q is not a valid query"),
    "dangling operator": ("/api/v1/events", {"q": "level:error AND"}, "q is not a valid query"),
    "leading wildcard": ("/api/v1/events", {"q": "user:*123"}, "leading wildcards"),
    "regex": ("/api/v1/events", {"q": "path:/api/"}, "regular expressions"),
    "number field with a word": ("/api/v1/events", {"q": "responseTime:>fast"}, "takes a number"),
    "bad ip": ("/api/v1/events", {"q": "client.ip:nope"}, "IP address"),
    "odd field name": ("/api/v1/events", {"q": "'x':1"}, ""),
    "from after to": ("/api/v1/events", {"from": "2026-03-11T00:00:00Z", "to": "2026-03-10T00:00:00Z"}, "before"),
    "unparsable time": ("/api/v1/events", {"from": "yesterday"}, "ISO 8601"),
    "size too large": ("/api/v1/events", {"size": 5000}, "1000"),
    "bad cursor": ("/api/v1/events", {"cursor": "not-a-cursor"}, "cursor"),
    "bad sort": ("/api/v1/events", {"sort": "sideways"}, "desc"),
    "unknown top field": ("/api/v1/stats/top", {"field": "colour"}, "endpoint"),
    "unknown by": ("/api/v1/stats/errors-over-time", {"by": "colour"}, "endpoint"),
    "unknown interval": ("/api/v1/stats/errors-over-time", {"interval": "7m"}, "5m"),
    "too many buckets": (
        "/api/v1/stats/errors-over-time",
        {"interval": "1m", "from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
        "maximum",
    ),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_input_is_422_with_a_message(duck_api: TestClient, name: str) -> None:
    route, params, needle = BAD[name]
    resp = duck_api.get(route, params={**RANGE, **params})
    assert resp.status_code == 422, resp.text
    assert needle in resp.text


def test_relative_times_default_to_last_day(duck_api: TestClient) -> None:
    # The corpus lies in the past: the last 24 h hold none of it; now-3650d covers it all.
    assert duck_api.get("/api/v1/events").json()["total"] == 0
    assert duck_api.get("/api/v1/events", params={"from": "now-3650d", "to": "now"}).json()["total"] == 2400


def test_readyz_reports_the_store(duck_api: TestClient) -> None:
    resp = duck_api.get("/readyz")
    assert resp.status_code == 200
    assert "2 day file(s)" in resp.json()["detail"]


def test_metrics_show_pipeline_and_api(duck_api: TestClient) -> None:
    duck_api.get("/api/v1/events", params=RANGE)
    text = duck_api.get("/metrics").text
    assert "logferry_lines_read" in text  # the pipeline's registry
    assert 'logferry_api_requests_total{method="GET",route="/api/v1/events",status="200"}' in text
    assert 'logferry_api_request_seconds_bucket{le="0.005",route="/api/v1/events"}' in text


def test_readyz_is_503_when_another_process_holds_the_file(tmp_path: Path) -> None:
    """DuckDB lets one process write a file; a separate `serve` must say so, not crash."""
    import subprocess
    import sys

    store = DayStore(tmp_path / "events")
    store.connect(dt.date(2026, 3, 10), create=True).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('held', flush=True); sys.stdin.read()",
            str(store.path(dt.date(2026, 3, 10))),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        api = TestClient(query_app(load_settings(None, data_dir=tmp_path)))
        resp = api.get("/readyz")
        assert resp.status_code == 503
        assert "one writing process" in resp.json()["detail"]
        assert "Traceback" not in resp.json()["detail"]
        events = api.get("/api/v1/events", params={"from": "2026-03-10T00:00:00Z", "to": "2026-03-11T00:00:00Z"})
        assert events.status_code == 503
    finally:
        holder.communicate("")


def test_same_process_reader_reads_through_the_writers_open_file(tmp_path: Path) -> None:
    """`logferry run` writes and serves in one process: queries see each batch while the sink stays open."""
    sink = DuckDBSink(DayStore(tmp_path / "events"), DeadLetterFile(tmp_path / "deadletter.ndjson"))
    batcher = Batcher(BatchConfig())
    params = {"from": "2026-03-10T00:00:00Z", "to": "2026-03-11T00:00:00Z"}
    try:
        batcher.feed({"@timestamp": "2026-03-10T01:00:00.000Z", "event.id": "a", "log.level": "error"})
        sink.write(batcher.flush())  # type: ignore[arg-type]
        api = TestClient(query_app(load_settings(None, data_dir=tmp_path)))
        assert api.get("/api/v1/events", params=params).json()["total"] == 1
        batcher.feed({"@timestamp": "2026-03-10T02:00:00.000Z", "event.id": "b"})
        sink.write(batcher.flush())  # type: ignore[arg-type]
        assert api.get("/api/v1/events", params=params).json()["total"] == 2
        assert dt.date(2026, 3, 10) in sink._connections, "a query in the same process made the writer close the file"
    finally:
        sink.close()


def test_limit_is_the_page_size_and_size_its_other_name(duck_api: TestClient) -> None:
    """One vocabulary: the API's `limit` is the CLI's `--limit`; `size` (its older name) still works."""
    assert len(duck_api.get("/api/v1/events", params={**RANGE, "limit": 1}).json()["events"]) == 1
    assert len(duck_api.get("/api/v1/events", params={**RANGE, "size": 2}).json()["events"]) == 2
    assert len(duck_api.get("/api/v1/events", params={**RANGE, "limit": 3, "size": 3}).json()["events"]) == 3
    both = duck_api.get("/api/v1/events", params={**RANGE, "limit": 1, "size": 2})
    assert both.status_code == 422 and "limit=1 and size=2" in both.json()["detail"]
    assert len(duck_api.get("/api/v1/stats/top", params={**RANGE, "field": "user", "limit": 2}).json()["top"]) == 2
    latency = duck_api.get("/api/v1/stats/latency", params={**RANGE, "by": "endpoint", "limit": 2}).json()
    assert len(latency["series"]) == 2


@pytest.mark.parametrize(
    ("route", "params", "hint"),
    [
        ("/api/v1/events", {"frm": "now-1h"}, "'frm' (did you mean 'from'?)"),
        ("/api/v1/events", {"limt": "5"}, "'limt' (did you mean 'limit'?)"),
        ("/api/v1/stats/top", {"field": "user", "colour": "red"}, "'colour'"),
        ("/api/v1/stats/errors-over-time", {"intervall": "1h"}, "'intervall' (did you mean 'interval'?)"),
    ],
)
def test_an_unknown_parameter_is_refused_with_the_known_ones(
    duck_api: TestClient, route: str, params: dict[str, str], hint: str
) -> None:
    resp = duck_api.get(route, params={**RANGE, **params})
    assert resp.status_code == 422, resp.text
    detail = resp.json()["detail"]
    assert hint in detail
    known = detail.split("this endpoint takes: ", 1)[1].split(", ")
    schema = duck_api.get("/openapi.json").json()
    documented = {p["name"] for p in schema["paths"][route]["get"]["parameters"]}
    assert set(known) == documented and "from" in known and "q" in known


def test_status_classes_are_case_insensitive(duck_api: TestClient) -> None:
    lower = duck_api.get("/api/v1/events", params={**RANGE, "status": "5xx", "limit": 1}).json()["total"]
    assert lower > 0
    assert duck_api.get("/api/v1/events", params={**RANGE, "status": "5XX", "limit": 1}).json()["total"] == lower
    q = duck_api.get("/api/v1/events", params={**RANGE, "q": "status_class:5XX", "limit": 1}).json()["total"]
    assert q == lower
