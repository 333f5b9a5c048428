"""The live tail under ``logferry run`` (both backends) and the login that keeps the API key in a cookie."""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

import httpx

from query.api_params import SESSION_COOKIE
from tests.browser import LoopbackPage
from tests.query.query_corpus import END, START
from tests.ui.conftest import KEY, log_line


def test_live_tail_shows_a_line_written_after_the_page_loaded(
    loopback_page: LoopbackPage, running: tuple[str, Path, str]
) -> None:
    url, log, backend = running
    page = loopback_page.page
    page.goto(f"{url}/tail?level=error")
    status = page.locator("#tail-status")
    page.wait_for_function("document.getElementById('tail-status').textContent.startsWith('live')")
    with log.open("ab") as f:
        f.write(log_line("an info line the filter leaves out", "info"))
        f.write(log_line("written after the page loaded", "error"))
    rows = page.locator("#tail-rows tr")
    rows.filter(has_text="written after the page loaded").wait_for(timeout=20_000)
    texts = " ".join(rows.all_inner_texts())
    assert "an info line the filter leaves out" not in texts  # the filter runs on the server
    # Paused, new events wait; resumed, they show.
    page.get_by_role("button", name="Pause").click()
    with log.open("ab") as f:
        f.write(log_line("written while paused", "error"))
    page.wait_for_function("document.getElementById('tail-status').textContent.includes('1 waiting')", timeout=20_000)
    assert rows.filter(has_text="written while paused").count() == 0
    assert "paused" in status.inner_text()
    page.get_by_role("button", name="Resume").click()
    assert rows.filter(has_text="written while paused").count() == 1
    assert rows.filter(has_text="written after the page loaded").count() == 1
    loopback_page.screenshot(f"live-tail-{backend}")


def test_login_keeps_the_key_in_an_httponly_strict_cookie(new_loopback_page: Any, keyed: Any) -> None:
    lp: LoopbackPage = new_loopback_page()
    page = lp.page
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    target = "/?" + urllib.parse.urlencode({"from": START.isoformat(), "to": END.isoformat(), "level": "error"})
    page.goto(keyed.url + target)
    assert urllib.parse.urlsplit(page.url).path == "/login"
    lp.screenshot("login")
    page.get_by_label("API key").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text() == "wrong key"
    page.get_by_label("API key").fill(KEY)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(keyed.url + target)
    assert int(page.locator("#hits").get_attribute("data-total")) > 0
    (cookie,) = [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    assert (cookie["httpOnly"], cookie["sameSite"]) == (True, "Strict")
    assert KEY not in cookie["value"]
    assert page.evaluate("document.cookie") == ""  # the page's scripts cannot read it
    assert not [u for u in seen if KEY in urllib.parse.unquote(u)]
    lp.screenshot("search-after-login")
    # The JSON API keeps taking the header, takes the cookie, and refuses neither-nor.
    api = keyed.url + "/api/v1/events"
    assert httpx.get(api, headers={"X-API-Key": KEY}).status_code == 200
    assert httpx.get(api, headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert httpx.get(api, cookies={SESSION_COOKIE: cookie["value"]}).status_code == 200
    assert httpx.get(api).status_code == 401
    assert httpx.get(api, cookies={SESSION_COOKIE: KEY}).status_code == 401
    assert httpx.get(api, headers={"X-API-Key": "wrong"}, cookies={SESSION_COOKIE: cookie["value"]}).status_code == 401
    # The page's own requests (export, context, docs) go with the cookie.
    assert page.request.get(keyed.url + "/api/v1/export?limit=2").status == 200
    assert page.request.get(keyed.url + "/docs").status == 200
    # Logging out ends it.
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(lambda u: "/login" in u)
    page.goto(keyed.url + "/stats/top")
    assert urllib.parse.urlsplit(page.url).path == "/login"


def test_a_login_never_redirects_off_the_server(new_loopback_page: Any, keyed: Any) -> None:
    page = new_loopback_page().page
    page.goto(keyed.url + "/login?next=//example.org/x")
    page.get_by_label("API key").fill(KEY)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("load")
    assert page.url == keyed.url + "/"


def test_a_form_posted_from_another_site_is_refused(keyed: Any) -> None:
    """The saved-search and login forms take posts from this server's pages only (the browser's Sec-Fetch-Site)."""
    for route, body in (("/saved", "name=x&state=q%3Dlevel%3Aerror"), ("/login", f"key={KEY}"), ("/logout", "")):
        resp = keyed.api.post(
            route,
            content=body,
            headers={
                "Sec-Fetch-Site": "cross-site",
                "Content-Type": "application/x-www-form-urlencoded",
                "X-API-Key": KEY,  # past the key check: the origin alone is refused
            },
        )
        assert resp.status_code == 403, route
        assert SESSION_COOKIE not in resp.headers.get("set-cookie", "")
