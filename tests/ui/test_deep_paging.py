"""Paging past 10,000 hits: the page follows the API's cursor (search_after on Elasticsearch, which
has no result window), on both backends."""

from __future__ import annotations

import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from logferry.config import load_settings
from store.day_store import DayStore
from tests.browser import LoopbackPage
from tests.query.query_corpus import END, START, documents, generate, load_duckdb, load_elasticsearch
from tests.ui.conftest import Served, serving, with_settings

EVENTS = 12_500
RANGE = {"from": START.isoformat(), "to": END.isoformat()}


@pytest.fixture(scope="module")
def big_docs() -> list[bytes]:
    return documents(generate(n=EVENTS, seed=11))


@pytest.fixture(params=["duckdb", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def big(request: pytest.FixtureRequest, tmp_path: Path, big_docs: list[bytes]) -> Iterator[Served]:
    settings = load_settings(None, data_dir=tmp_path)
    if request.param == "duckdb":
        load_duckdb(DayStore(tmp_path / "events"), big_docs)
    else:
        client: Any = request.getfixturevalue("es_client")
        prefix = request.getfixturevalue("index_prefix") + f"-{uuid.uuid4().hex[:4]}"
        load_elasticsearch(client, prefix, big_docs)
        settings = with_settings(
            settings,
            api={"backend": "elasticsearch"},
            elasticsearch={"hosts": [request.getfixturevalue("es_url")], "index_prefix": prefix},
        )
    with serving(settings) as served:
        yield served


def test_the_page_pages_past_10000_hits(loopback_page: LoopbackPage, big: Served) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(11):
        extra = {"cursor": cursor} if cursor else {}
        body = big.api.get("/api/v1/events", params={**RANGE, "size": 1000, **extra}).json()
        seen += [e["event"]["id"] for e in body["events"]]
        cursor = body["next"]
    assert len(seen) == len(set(seen)) == 11_000
    page = loopback_page.page
    page.goto(f"{big.url}/?" + urllib.parse.urlencode({**RANGE, "size": "1000", "cursor": cursor}))
    rows = page.locator("tbody.event")
    assert rows.count() == 1000
    page.get_by_role("link", name="Older 1000 »").click()
    page.wait_for_url(lambda url: cursor not in url)
    assert rows.count() == EVENTS - 12_000
    last = big.api.get("/api/v1/events", params={**RANGE, "size": 1, "sort": "asc"}).json()["events"][0]
    assert page.locator("tbody.event td.c-timestamp").last.inner_text().strip() == last["@timestamp"]
    assert page.get_by_role("link", name="Older 1000 »").count() == 0
