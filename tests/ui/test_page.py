"""The web page in a real Chromium, on both backends: the seeds' questions, and each thing the page does.

Every number the page shows is compared with the JSON API's answer to the same parameters; every page
is confined to 127.0.0.1 (tests/browser.py fails a test naming any request that left it). Each view
is saved as a screenshot under build/screenshots/.
"""

from __future__ import annotations

import csv
import io
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from tests.browser import SCREENSHOTS, LoopbackPage
from tests.query.query_corpus import END, START
from tests.ui.conftest import Served, open_view, url_params

RANGE = {"from": START.isoformat(), "to": END.isoformat()}


def open_page(lp: LoopbackPage, served: Served, path: str = "/", **params: str) -> Any:
    return open_view(lp, served.url, path, **{**RANGE, **params})


def api_total(served: Served, **params: str) -> int:
    total: int = served.api.get("/api/v1/events", params={**RANGE, **params, "size": 1}).json()["total"]
    return total


def shown_total(page: Any) -> int:
    return int(page.locator("#hits").get_attribute("data-total"))


def histogram_sum(page: Any) -> int:
    return int(
        page.evaluate(
            "JSON.parse(document.getElementById('histogram-data').textContent).buckets.reduce((a, b) => a + b.count, 0)"
        )
    )


SEED_QUESTIONS = {
    "errors of one user": {"q": 'userId:"user_3"', "level": "error"},
    "what fails on one endpoint": {"endpoint": "/api/v1/payments/{id}", "status": "5xx"},
    "slow requests over 2 s": {"q": "responseTime:>2000"},
}


@pytest.mark.parametrize("question", SEED_QUESTIONS, ids=list(SEED_QUESTIONS))
def test_the_seeds_questions_give_the_apis_answers(loopback_page: LoopbackPage, served: Served, question: str) -> None:
    params = SEED_QUESTIONS[question]
    page = open_page(loopback_page, served, **params)
    expected = api_total(served, **params)
    assert expected > 0
    assert shown_total(page) == histogram_sum(page) == expected
    rows = page.locator("tbody.event")
    assert rows.count() == min(100, expected)
    first_api = served.api.get("/api/v1/events", params={**RANGE, **params, "size": 1}).json()["events"][0]
    assert page.locator("tbody.event td.c-timestamp").first.inner_text().strip() == first_api["@timestamp"]
    loopback_page.screenshot(f"search-{question.replace(' ', '-')}-{served.backend}")
    assert not loopback_page.console_errors


def test_errors_per_5_minutes_view_matches_the_api(loopback_page: LoopbackPage, served: Served) -> None:
    page = open_page(loopback_page, served, "/stats/errors", interval="5m", by="endpoint")
    api = served.api.get("/api/v1/stats/errors-over-time", params={**RANGE, "interval": "5m", "by": "endpoint"}).json()
    shown = page.evaluate("JSON.parse(document.getElementById('errors-data').textContent)")
    assert shown == api
    assert len(api["buckets"]) == 2 * 24 * 12
    assert page.locator("#errors-chart canvas").count() == 1
    shown = page.locator("main strong").first.inner_text().replace(",", "")
    assert shown == str(sum(b["count"] for b in api["buckets"]))
    loopback_page.screenshot(f"errors-over-time-{served.backend}")


def test_histogram_totals_equal_the_apis(loopback_page: LoopbackPage, served: Served) -> None:
    page = open_page(loopback_page, served)
    api = served.api.get("/api/v1/histogram", params=RANGE).json()
    assert shown_total(page) == histogram_sum(page) == api["total"] == api_total(served)
    assert 60 <= len(api["buckets"]) <= 120
    assert page.locator("#histogram canvas").count() == 1
    loopback_page.screenshot(f"search-{served.backend}")
    # What a user sees first, the window only (docs/ui-search.png in the README is this one).
    page.screenshot(path=str(SCREENSHOTS / f"search-window-{served.backend}.png"))


def test_a_click_on_a_field_value_adds_the_filter(loopback_page: LoopbackPage, served: Served) -> None:
    page = open_page(loopback_page, served)
    page.get_by_label("include log.level error", exact=True).click()
    page.wait_for_url(lambda url: "level=error" in url)
    assert url_params(page)["level"] == "error"
    assert shown_total(page) == api_total(served, level="error")
    page.get_by_label("exclude service.name api", exact=True).click()
    page.wait_for_url(lambda url: "NOT" in urllib.parse.unquote_plus(url))
    assert url_params(page)["q"] == 'NOT service.name:"api"'
    assert shown_total(page) == api_total(served, level="error", q='NOT service.name:"api"')
    page.go_back()
    page.wait_for_url(lambda url: "NOT" not in urllib.parse.unquote_plus(url))
    assert shown_total(page) == api_total(served, level="error")


def test_a_drag_on_the_histogram_zooms_from_and_to(loopback_page: LoopbackPage, served: Served) -> None:
    page = open_page(loopback_page, served)
    box = page.locator("#histogram .u-over").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.25, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, y, steps=8)
    page.mouse.up()
    page.wait_for_url(lambda url: START.isoformat() not in urllib.parse.unquote(url))
    params = url_params(page)
    start, end = params["from"], params["to"]
    assert START.isoformat()[:10] <= start < end <= END.isoformat().replace("+00:00", "Z")
    assert shown_total(page) == api_total(served, **{"from": start, "to": end}) > 0
    assert shown_total(page) < api_total(served)
    loopback_page.screenshot(f"search-zoomed-{served.backend}")


def test_a_row_expands_to_its_document_and_its_context(loopback_page: LoopbackPage, served: Served) -> None:
    page = open_page(loopback_page, served)
    first = served.api.get("/api/v1/events", params={**RANGE, "size": 1}).json()["events"][0]
    row = page.locator("tbody.event").first
    assert row.locator("tr.detail").is_hidden()
    row.locator("button.expand").click()
    detail = row.locator("tr.detail")
    assert detail.is_visible()
    assert first["event"]["id"] in detail.locator("pre.json").inner_text()
    detail.get_by_role("button", name="Show context").click()
    context = detail.locator(".context table.ctx tr")
    context.first.wait_for()
    api = served.api.get(f"/api/v1/events/{first['event']['id']}/context", params={"n": 10}).json()
    assert context.count() == len(api["before"]) + 1 + len(api["after"])
    assert detail.locator("tr.this td.off").inner_text() == str(first["log"]["offset"])
    offsets = [int(t) for t in detail.locator(".context td.off").all_inner_texts()]
    assert offsets == sorted(offsets)
    loopback_page.screenshot(f"row-context-{served.backend}")


def test_a_bad_query_shows_the_apis_422_text(loopback_page: LoopbackPage, served: Served) -> None:
    page = open_page(loopback_page, served, q="level:(error")
    api = served.api.get("/api/v1/events", params={**RANGE, "q": "level:(error"})
    assert api.status_code == 422
    assert page.get_by_role("alert").inner_text() == api.json()["detail"]
    assert page.locator("#q").get_attribute("aria-invalid") == "true"


def test_field_names_complete_in_the_query_bar(loopback_page: LoopbackPage, served: Served) -> None:
    page = open_page(loopback_page, served)
    q = page.locator("#q")
    q.click()
    q.press_sequentially("user")
    options = page.locator("#q-complete li")
    options.first.wait_for()
    assert "user.id" in options.all_inner_texts()
    q.press("Tab")
    assert q.input_value().endswith(":")
    assert q.input_value().split(":")[0] in options.all_inner_texts() or q.input_value() == "user.id:"


def test_paging_follows_the_apis_cursor(loopback_page: LoopbackPage, served: Served) -> None:
    page = open_page(loopback_page, served, size="50")
    page.get_by_role("link", name="Older 50 »").click()
    page.wait_for_url(lambda url: "cursor=" in url)
    cursor = url_params(page)["cursor"]
    api = served.api.get("/api/v1/events", params={**RANGE, "size": 50, "cursor": cursor}).json()
    shown = page.locator("tbody.event td.c-timestamp").all_inner_texts()
    assert [t.strip() for t in shown] == [e["@timestamp"] for e in api["events"]]


def test_columns_are_added_and_removed(loopback_page: LoopbackPage, served: Served) -> None:
    page = open_page(loopback_page, served)
    page.locator("details:has(.fname:text-is('user.id')) summary").first.click()
    page.locator("details:has(.fname:text-is('user.id'))").get_by_role("link", name="add column").click()
    page.wait_for_url(lambda url: "columns=" in url)
    assert "user.id" in page.locator("table.events th").all_inner_texts()[-1]
    page.get_by_label("remove column service.name").click()
    page.wait_for_url(lambda url: "service.name" not in urllib.parse.unquote(url.split("columns=")[1]))
    headers = " ".join(page.locator("table.events th").all_inner_texts())
    assert "service.name" not in headers and "user.id" in headers


def test_a_saved_search_round_trips(loopback_page: LoopbackPage, served: Served) -> None:
    page = open_page(loopback_page, served, q='userId:"user_3"', level="error")
    before = url_params(page)
    name = f"user 3 errors {served.backend}"
    page.get_by_label("Save as").fill(name)
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_url(lambda url: "/saved" in url)
    assert page.get_by_role("status").inner_text() == f"Saved “{name}”."
    loopback_page.screenshot(f"saved-searches-{served.backend}")
    page.get_by_role("link", name=name).click()
    page.wait_for_url(lambda url: urllib.parse.urlsplit(url).path == "/")
    assert url_params(page) == before
    assert shown_total(page) == api_total(served, q='userId:"user_3"', level="error")
    assert served.api.get(f"/api/v1/saved-searches/{name}").json()["params"] == before


def test_the_csv_export_has_the_rows_the_api_gives(loopback_page: LoopbackPage, served: Served) -> None:
    page = open_page(loopback_page, served, level="error", columns="@timestamp,message,user.id")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.splitlines()[0] == "@timestamp,message,user.id"  # the columns shown
    rows = list(csv.DictReader(io.StringIO(text)))
    events, cursor = [], None
    while True:
        extra = {"cursor": cursor} if cursor else {}
        body = served.api.get("/api/v1/events", params={**RANGE, "level": "error", "size": 1000, **extra}).json()
        events += body["events"]
        cursor = body["next"]
        if cursor is None:
            break
    assert len(rows) == len(events) > 0
    assert [(r["@timestamp"], r["message"], r["user.id"]) for r in rows] == [
        (e["@timestamp"], e["message"], e.get("user", {}).get("id", "")) for e in events
    ]


def test_the_stats_views_show_the_apis_numbers(loopback_page: LoopbackPage, served: Served) -> None:
    page = open_page(loopback_page, served, "/stats/top", field="error.type", errors="true")
    top = {"field": "error.type", "errors": "true", "size": 20}
    api = served.api.get("/api/v1/stats/top", params={**RANGE, **top}).json()
    cells = page.locator("table.stats tbody tr td:first-child").all_inner_texts()
    assert cells == [str(e["key"]) for e in api["top"]]
    loopback_page.screenshot(f"top-values-{served.backend}")
    page = open_page(loopback_page, served, "/stats/latency")
    page.get_by_role("link", name="p99").click()
    page.wait_for_url(lambda url: "sort=p99" in url)
    api = served.api.get("/api/v1/stats/latency", params={**RANGE, "by": "endpoint", "size": 100}).json()
    keys = page.locator("table.stats tbody tr td:first-child").all_inner_texts()
    assert keys == [s["key"] for s in sorted(api["series"], key=lambda s: (-s["p99"], s["key"]))]
    page.get_by_role("link", name="p95").click()
    page.wait_for_url(lambda url: "sort=p95" in url)
    keys = page.locator("table.stats tbody tr td:first-child").all_inner_texts()
    assert keys == [s["key"] for s in sorted(api["series"], key=lambda s: (-s["p95"], s["key"]))]
    loopback_page.screenshot(f"latency-{served.backend}")


def test_the_page_works_by_keyboard(loopback_page: LoopbackPage, served: Served) -> None:
    page = open_page(loopback_page, served)
    page.locator("body").press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("level:error")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "q=level" in url)
    assert shown_total(page) == api_total(served, q="level:error")
    # Tab from the query bar reaches a row's expand button; Enter opens it.
    page.locator("#q").focus()
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('expand')"):
            break
    else:
        pytest.fail("Tab never reached a row's expand button")
    page.keyboard.press("Enter")
    assert page.locator("tbody.event").first.locator("tr.detail").is_visible()
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.tagName") in ("A", "BUTTON", "INPUT", "SUMMARY")
