"""The response models are enforced, not only documented: an answer carries exactly what OpenAPI says."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from logferry.components import query_app
from logferry.config import Settings
from query.backend import DuckDBBackend
from query.filters import Filters
from store.day_store import DayStore
from tests.query.query_corpus import END, START

pytestmark = pytest.mark.integration
RANGE = {"from": START.isoformat(), "to": END.isoformat()}


class DuckDBBackendOfANewerRelease(DuckDBBackend):
    """The real DuckDB backend, answering with keys this API version does not declare."""

    def search_events(self, f: Filters, size: int, sort: str, cursor: str | None) -> dict[str, Any]:
        return {**super().search_events(f, size, sort, cursor), "took_ms": 3}

    def errors_over_time(self, f: Filters, interval: str, width_ms: int, by: str | None, top: int) -> dict[str, Any]:
        answer = super().errors_over_time(f, interval, width_ms, by, top)
        return {**answer, "buckets": [{**b, "partial": False} for b in answer["buckets"]]}

    def top(self, f: Filters, field: str, size: int, errors: bool) -> dict[str, Any]:
        answer = super().top(f, field, size, errors)
        return {**answer, "top": [{**t, "share": 0.5} for t in answer["top"]], "sampled": True}

    def latency(self, f: Filters, by: str | None, size: int, sort: str = "count") -> dict[str, Any]:
        answer = super().latency(f, by, size, sort)
        return {**answer, "overall": {**answer["overall"], "mean": 1.0}}


@pytest.fixture(scope="module")
def newer_backend_api(corpus_settings: Settings) -> TestClient:
    backend = DuckDBBackendOfANewerRelease(DayStore(corpus_settings.data_dir / "events"))
    return TestClient(query_app(corpus_settings, backend))


def test_answers_carry_only_the_keys_the_models_declare(newer_backend_api: TestClient) -> None:
    events = newer_backend_api.get("/api/v1/events", params={**RANGE, "size": 2}).json()
    assert set(events) == {"total", "events", "next", "window", "warnings"}
    assert len(events["events"]) == 2

    buckets = newer_backend_api.get("/api/v1/stats/errors-over-time", params={**RANGE, "interval": "1h"}).json()
    assert {key for b in buckets["buckets"] for key in b} == {"start", "count", "series"}

    top = newer_backend_api.get("/api/v1/stats/top", params={**RANGE, "field": "user"}).json()
    assert set(top) == {"field", "total", "top", "other", "missing", "window", "warnings"}
    assert top["top"] and all(set(t) == {"key", "count"} for t in top["top"])

    latency = newer_backend_api.get("/api/v1/stats/latency", params=RANGE).json()
    assert set(latency["overall"]) == {"count", "p50", "p95", "p99", "max", "slow", "exact"}
