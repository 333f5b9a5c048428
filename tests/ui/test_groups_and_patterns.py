"""The error groups and patterns views in a real Chromium, on both backends.

What a row shows is compared with the JSON API's answer to the same parameters (groups: order, count,
users, first and last seen, new, endpoints, the sparkline's bars; patterns: template, count, share);
a group's link must find exactly its events, a pattern's link every one of its lines. Decisions
(resolve, ignore, reopen, undo) are made with the page's buttons against ``logferry run`` tailing a
file of real Python tracebacks, and a line written after a resolve makes the group regressed. Every
page is confined to 127.0.0.1 (tests/browser.py); screenshots go to build/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import traceback
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from query.api_params import SESSION_COOKIE
from tests.browser import SCREENSHOTS, LoopbackPage
from tests.query.query_corpus import END, START
from tests.ui.conftest import KEY, Served, log_line, open_view, url_params

RANGE = {"from": START.isoformat(), "to": END.isoformat()}
LATER = {"from": (START + dt.timedelta(hours=12)).isoformat(), "to": END.isoformat()}
"""A window some of the corpus' groups were first seen in (the rarer ones)."""
GROUPS = "/api/v1/errors/groups"
SPARK_HEIGHT = 20


def api_groups(api: httpx.Client, **params: Any) -> dict[str, Any]:
    resp = api.get(GROUPS, params=params)
    assert resp.status_code == 200, resp.text
    result: dict[str, Any] = resp.json()
    return result


def shown_groups(page: Any) -> list[dict[str, Any]]:
    """Each row as the page shows it: key, link text, numbers, times, flags, endpoints, bar heights."""
    return page.evaluate(
        """() => [...document.querySelectorAll('tr.group')].map(tr => ({
            key: tr.dataset.key,
            title: tr.querySelector('a.gtitle').textContent.trim(),
            href: tr.querySelector('a.gtitle').getAttribute('href'),
            count: Number(tr.querySelector('td.count').textContent.replace(/,/g, '')),
            users: Number(tr.querySelector('td.users').textContent.replace(/,/g, '')),
            first_seen: tr.querySelector('td.first time').getAttribute('datetime'),
            last_seen: tr.querySelector('td.last time').getAttribute('datetime'),
            new: !!tr.querySelector('.badge-new'),
            regressed: !!tr.querySelector('.badge-regressed'),
            endpoints: [...tr.querySelectorAll('td.where code')].map(c => c.textContent),
            services: [...tr.querySelectorAll('.svc')].map(c => c.textContent),
            bars: tr.querySelector('td.spark svg').getAttribute('viewBox').split(' ')[2],
            path: (tr.querySelector('td.spark path') || {getAttribute: () => ''}).getAttribute('d'),
        }))"""
    )


def bar_heights(path: str, buckets: int) -> list[float]:
    """The sparkline's bars read back from its SVG path (``M0 20`` then ``V<y>h<run>`` steps)."""
    heights: list[float] = []
    for y, run in re.findall(r"V([\d.]+)h(\d+)", path):
        heights += [SPARK_HEIGHT - float(y)] * int(run)
    return heights or [0.0] * buckets


def assert_rows_are_the_apis(rows: list[dict[str, Any]], api: dict[str, Any]) -> None:
    assert [r["key"] for r in rows] == [g["key"] for g in api["groups"]]
    for row, group in zip(rows, api["groups"], strict=True):
        name = group["title"] or group["type"]
        assert row["title"] == name
        assert (row["count"], row["users"]) == (group["count"], group["users"]), name
        assert (row["first_seen"], row["last_seen"]) == (group["first_seen"], group["last_seen"]), name
        assert (row["new"], row["regressed"]) == (group["new"], group["regressed"]), name
        assert row["endpoints"] == [e["key"] for e in group["endpoints"]], name
        assert row["services"] == [s["key"] for s in group["services"]], name
        counts = group["counts"]
        heights = bar_heights(row["path"], len(counts))
        assert int(row["bars"]) == len(counts) == len(api["buckets"]) == len(heights)
        assert [h > 0 for h in heights] == [n > 0 for n in counts], name  # a bar where the API counts events
        for i in range(1, len(counts)):
            assert (counts[i - 1] > counts[i]) <= (heights[i - 1] >= heights[i])
        assert max(heights) == SPARK_HEIGHT


@pytest.mark.parametrize("sort", ["count", "users", "first", "last"])
def test_the_groups_shown_are_the_apis(loopback_page: LoopbackPage, served: Served, sort: str) -> None:
    page = open_view(loopback_page, served.url, "/errors/groups", **RANGE, sort=sort, limit="500")
    api = api_groups(served.api, **RANGE, sort=sort, limit=500)
    assert api["total"] > 10
    assert int(page.locator("#group-total").get_attribute("data-total")) == api["total"]
    assert_rows_are_the_apis(shown_groups(page), api)
    assert page.locator(f"th[aria-sort='descending'] a:has-text('{dict(count='events').get(sort, sort)}')").count()
    loopback_page.screenshot(f"error-groups-by-{sort}-{served.backend}")
    if sort == "count":  # what a user sees first, the window only (docs/ui-error-groups.png in the README)
        page.screenshot(path=str(SCREENSHOTS / f"error-groups-window-{served.backend}.png"))
    assert not loopback_page.console_errors


def test_a_sort_header_and_a_state_chip_change_the_url_and_the_rows(
    loopback_page: LoopbackPage, served: Served
) -> None:
    page = open_view(loopback_page, served.url, "/errors/groups", **LATER)
    page.get_by_role("link", name="users").click()
    page.wait_for_url(lambda url: "sort=users" in url)
    assert_rows_are_the_apis(shown_groups(page), api_groups(served.api, **LATER, sort="users"))
    page.get_by_role("group", name="State").get_by_role("link", name="new").click()
    page.wait_for_url(lambda url: "state=new" in url)
    new = api_groups(served.api, **LATER, sort="users", state="new")
    assert 0 < len(new["groups"]) < api_groups(served.api, **LATER)["total"]  # some groups are first seen after 12:00
    rows = shown_groups(page)
    assert_rows_are_the_apis(rows, new)
    assert all(r["new"] for r in rows)
    page.get_by_role("group", name="Sparkline interval").get_by_role("link", name="5m").click()
    page.wait_for_url(lambda url: "interval=5m" in url)
    fine = api_groups(served.api, **LATER, sort="users", state="new", interval="5m")
    assert_rows_are_the_apis(shown_groups(page), fine)
    assert url_params(page) == {**LATER, "sort": "users", "state": "new", "interval": "5m"}
    loopback_page.screenshot(f"error-groups-new-after-12h-{served.backend}")


@pytest.mark.parametrize("filters", [{}, {"user": "user_3", "q": "NOT service.name:web"}], ids=["all", "filtered"])
def test_a_click_on_a_group_searches_exactly_its_events(
    loopback_page: LoopbackPage, served: Served, filters: dict[str, str]
) -> None:
    page = open_view(loopback_page, served.url, "/errors/groups", **RANGE, **filters, sort="users")
    (group, *_) = api_groups(served.api, **RANGE, **filters, sort="users")["groups"]
    page.locator(f"tr.group[data-key='{group['key']}'] a.gtitle").click()
    page.wait_for_url(lambda url: urllib.parse.urlsplit(url).path == "/")
    params = url_params(page)
    clause = f'error.grouping_key:"{group["key"]}"'
    assert params == {**RANGE, **filters, "q": f"{filters['q']} AND {clause}" if filters else clause}
    total = int(page.locator("#hits").get_attribute("data-total"))
    assert total == group["count"] == served.api.get("/api/v1/events", params=params).json()["total"]
    loopback_page.screenshot(f"error-group-events-{served.backend}")


def test_a_wrong_parameter_is_said_like_the_api_says_it(loopback_page: LoopbackPage, served: Served) -> None:
    for params, expected in (
        ({"sort": "loudest"}, "sort 'loudest' is not one of count, last, first, users"),
        ({"state": "fixed"}, "state 'fixed' is not one of open, new, regressed, resolved, ignored, all"),
        ({"limit": "0"}, "limit '0' is not a whole number from 1 to 500"),
        ({"interval": "1m", "from": "2026-01-01T00:00:00Z"}, None),
        ({"q": "level:(error"}, None),
    ):
        page = open_view(loopback_page, served.url, "/errors/groups", **{**RANGE, **params})
        api = served.api.get(GROUPS, params={**RANGE, **params})
        assert api.status_code == 422
        shown = page.get_by_role("alert").inner_text()
        assert shown == (expected or api.json()["detail"])
        assert page.locator("tr.group").count() == 0
    page = open_view(loopback_page, served.url, "/patterns", **RANGE, sample="10")
    assert page.get_by_role("alert").inner_text() == "sample '10' is not a whole number from 100 to 200,000"
    assert served.api.get("/api/v1/patterns", params={**RANGE, "sample": 10}).status_code == 422


def template_regex(template: str) -> re.Pattern[str]:
    return re.compile("(.+)".join(re.escape(part) for part in template.split("<*>")))


def all_events(api: httpx.Client, params: dict[str, str]) -> list[dict[str, Any]]:
    events, cursor = [], None
    while True:
        body = api.get("/api/v1/events", params={**params, "size": 1000, **({"cursor": cursor} if cursor else {})})
        assert body.status_code == 200, body.text
        events += body.json()["events"]
        cursor = body.json()["next"]
        if cursor is None:
            return events


@pytest.mark.parametrize("filters", [{}, {"level": "error"}], ids=["all", "errors"])
def test_the_patterns_shown_are_the_apis_and_each_link_finds_its_lines(
    loopback_page: LoopbackPage, served: Served, filters: dict[str, str]
) -> None:
    page = open_view(loopback_page, served.url, "/patterns", **RANGE, **filters)
    api = served.api.get("/api/v1/patterns", params={**RANGE, **filters}).json()
    assert api["sampled"] == api["total"] > 0  # the whole corpus is mined: a pattern's count is all its lines
    shown = page.evaluate(
        """() => [...document.querySelectorAll('tr.pattern')].map(tr => ({
            template: tr.querySelector('code.template').textContent,
            count: Number(tr.querySelector('td.count').textContent.replace(/,/g, '')),
            share: tr.querySelector('.share').textContent,
        }))"""
    )
    assert shown == [
        {"template": p["template"], "count": p["count"], "share": f"{100 * p['share']:.1f}%"} for p in api["patterns"]
    ]
    loopback_page.screenshot(f"patterns-{'-'.join(filters.values()) or 'all'}-{served.backend}")
    for pattern in api["patterns"]:
        page.get_by_role("link", name=f"show the lines of {pattern['template']}", exact=True).click()
        page.wait_for_url(lambda url: urllib.parse.urlsplit(url).path == "/")
        params = url_params(page)
        assert {k: v for k, v in params.items() if k != "q"} == {**RANGE, **filters}
        assert params["q"] == pattern["query"]
        found = all_events(served.api, params)
        assert int(page.locator("#hits").get_attribute("data-total")) == len(found)
        regex = template_regex(pattern["template"])
        assert sum(1 for e in found if regex.fullmatch(e["message"])) == pattern["count"], pattern["template"]
        if pattern["template"] == "payment failed for order <*>":
            assert len(found) == pattern["count"]  # its words are no other pattern's
        page.go_back()
        page.wait_for_url(lambda url: "/patterns" in url)


def test_both_views_work_by_keyboard(loopback_page: LoopbackPage, served: Served) -> None:
    page = open_view(loopback_page, served.url, "/errors/groups", **RANGE)

    def tab_to(selector: str, limit: int = 200) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement.matches({selector!r})"):
                return
        pytest.fail(f"Tab never reached {selector}")

    page.locator("#q").focus()
    tab_to("td.decide button")  # past the first group's link, its Resolve button
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith("Resolve ")
    page.locator("#q").focus()
    tab_to("a.gtitle")
    first = page.evaluate("document.activeElement.closest('tr').dataset.key")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: first in urllib.parse.unquote(url))
    assert urllib.parse.urlsplit(page.url).path == "/"
    page = open_view(loopback_page, served.url, "/patterns", **RANGE)
    page.locator("#q").focus()
    tab_to("a.plines")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: urllib.parse.urlsplit(url).path == "/")
    assert url_params(page)["q"]


# -- decisions, against logferry run --------------------------------------------------------------------------------


class PaymentDeclined(Exception):
    pass


def charge(card: int) -> None:
    raise PaymentDeclined(f"card {card} declined")


def traceback_line(card: int) -> bytes:
    """What an app's JSON logger writes for a real exception raised here (python-json-logger's exc_info)."""
    try:
        charge(card)
    except PaymentDeclined:
        stack = traceback.format_exc()
        return log_line("payment failed", "error", service="shop", userId=f"user_{card % 7}", exc_info=stack)
    raise AssertionError("charge returned")


def reload_until(page: Any, condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    """Reload the page until ``condition`` holds (a line written to the log is stored within a second or two)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.25)
        page.reload()
        page.wait_for_load_state("load")


def test_resolve_hides_a_group_and_a_later_event_shows_it_regressed(
    loopback_page: LoopbackPage, running: tuple[str, Path, str]
) -> None:
    url, log, backend = running
    now = dt.datetime.now(dt.UTC)
    window = {"from": (now - dt.timedelta(hours=1)).isoformat(), "to": (now + dt.timedelta(hours=1)).isoformat()}
    hostile = '<img src="/x" onerror="document.title=1"> & </td>'
    with log.open("ab") as f:
        f.write(traceback_line(4242) + traceback_line(1234) + log_line(hostile, "fatal"))
    page = open_view(loopback_page, url, "/errors/groups", **window)
    row = page.locator("tr.group", has_text="PaymentDeclined: card <*> declined")
    reload_until(page, lambda: row.count() == 1 and "<img" in page.locator("table.groups").inner_text(), "both groups")
    assert page.locator("table.groups img").count() == 0  # a title is text, whatever the log line holds
    key = row.get_attribute("data-key")
    api = httpx.Client(base_url=url, timeout=30)
    (group,) = [g for g in api_groups(api, **window)["groups"] if g["key"] == key]
    assert_rows_are_the_apis(shown_groups(page), api_groups(api, **window))
    assert group["count"] == 2 and group["users"] == 2 and group["type"].endswith("PaymentDeclined")
    assert row.locator("code.culprit").inner_text() == group["culprit"] and "charge" in group["culprit"]
    row.locator("summary", has_text="newest event").click()
    assert "raise PaymentDeclined" in row.locator("pre.stack").inner_text()
    loopback_page.screenshot(f"error-groups-open-{backend}")

    # Resolve, by keyboard: the group leaves the open ones; the notice offers undo.
    row.locator("a.gtitle").focus()
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("(document.activeElement.getAttribute('aria-label') || '').startsWith('Resolve ')"):
            break
    page.keyboard.press("Enter")
    page.wait_for_url(lambda u: "done=resolved" in u)
    assert f"Resolved “{group['title']}”" in page.get_by_role("status").inner_text()
    assert row.count() == 0
    resolved = api_groups(api, **window, state="resolved")["groups"]
    assert [g["state"] for g in resolved if g["key"] == key] == ["resolved"]
    loopback_page.screenshot(f"error-groups-resolved-{backend}")
    page.get_by_role("button", name="Undo").click()
    page.wait_for_url(lambda u: "done=open" in u)
    assert row.count() == 1 and row.locator(".badge-regressed").count() == 0
    assert [g["state"] for g in api_groups(api, **window)["groups"] if g["key"] == key] == ["open"]

    # Resolved again, the group's next event makes it regressed: back among the open ones, flagged.
    row.get_by_role("button", name=re.compile("^Resolve ")).click()
    page.wait_for_url(lambda u: "done=resolved" in u)
    assert row.count() == 0
    with log.open("ab") as f:
        f.write(traceback_line(777))
    reload_until(page, lambda: row.locator(".badge-regressed").count() == 1, "the group shows regressed")
    (group,) = [g for g in api_groups(api, **window, state="regressed")["groups"] if g["key"] == key]
    assert group["regressed"] and group["count"] == 3
    assert_rows_are_the_apis(shown_groups(page), api_groups(api, **window))
    loopback_page.screenshot(f"error-groups-regressed-{backend}")

    # Ignored, it stays hidden when seen again; the "ignored" chip lists it with a reopen button.
    row.get_by_role("button", name=re.compile("^Ignore ")).click()
    page.wait_for_url(lambda u: "done=ignored" in u)
    assert row.count() == 0
    page.get_by_role("group", name="State").get_by_role("link", name="ignored").click()
    page.wait_for_url(lambda u: "state=ignored" in u)
    assert shown_groups(page)[0]["key"] == key
    row.get_by_role("button", name=re.compile("^Reopen ")).click()
    page.wait_for_url(lambda u: "done=open" in u)
    assert url_params(page)["state"] == "ignored" and row.count() == 0  # back where the button was
    assert [g["state"] for g in api_groups(api, **window)["groups"] if g["key"] == key] == ["open"]


def test_a_decision_needs_the_login_and_this_servers_page(keyed: Served) -> None:
    """A decision is a POST of the page's form: refused from another site (Sec-Fetch-Site, even with the key)
    and sent to the login without the key; the group's state stays as it was."""
    (group, *_) = keyed.api.get(GROUPS, params={**RANGE}, headers={"X-API-Key": KEY}).json()["groups"]
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    route = f"/errors/groups/{group['key']}/state"
    body = "state=resolved&back=sort%3Dusers"
    cross_site = {**form, "Sec-Fetch-Site": "cross-site", "X-API-Key": KEY}
    cross = httpx.post(keyed.url + route, content=body, headers=cross_site)
    assert cross.status_code == 403
    anonymous = httpx.post(keyed.url + route, content=body, headers={**form, "Sec-Fetch-Site": "same-origin"})
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    states = keyed.api.get(GROUPS, params={**RANGE, "state": "all", "limit": 500}, headers={"X-API-Key": KEY}).json()
    assert [g["state"] for g in states["groups"] if g["key"] == group["key"]] == ["open"]
    # With the login cookie, from the page: done, and back to the page it came from.
    cookie = {SESSION_COOKIE: session_cookie(keyed)}
    same_origin = {**form, "Sec-Fetch-Site": "same-origin"}
    done = httpx.post(keyed.url + route, content=body, headers=same_origin, cookies=cookie)
    assert done.status_code == 303
    target = urllib.parse.urlsplit(done.headers["location"])
    assert target.path == "/errors/groups"
    assert urllib.parse.parse_qs(target.query) == {"sort": ["users"], "done": ["resolved"], "group": [group["key"]]}
    states = keyed.api.get(GROUPS, params={**RANGE, "state": "resolved"}, headers={"X-API-Key": KEY}).json()
    assert [g["key"] for g in states["groups"]] == [group["key"]]
    bad = httpx.post(keyed.url + "/errors/groups/not-a-key/state", content=body, headers={**form, "X-API-Key": KEY})
    assert bad.status_code == 422


def session_cookie(served: Served) -> str:
    resp = httpx.post(
        served.url + "/login",
        content=urllib.parse.urlencode({"key": KEY, "next": "/"}),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status_code == 303
    value: str = resp.cookies[SESSION_COOKIE]
    return value
