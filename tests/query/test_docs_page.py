"""/docs in a real browser: Swagger UI renders FastAPI's OpenAPI 3.1, shows every operation, and
"Try it out" gets answers from a real server, with no key set and with one (through "Authorize")."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from logferry.commands.options import api_server, api_url, bind_api
from logferry.config import Settings
from tests.browser import SCREENSHOTS, LoopbackPage
from tests.query.query_corpus import END, START

pytestmark = pytest.mark.integration
KEY = "docs-page-key"
# What to fill in for "Try it out": the corpus's time range, and the one required choice.
FILL = {"from": START.isoformat(), "to": END.isoformat(), "limit": "2"}
CHOOSE = {"field": "user"}


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """``logferry serve`` of ``settings`` on a free loopback port, on a thread; its base URL."""
    sock = bind_api("127.0.0.1", 0)
    server, run = api_server(settings, sock)
    thread = threading.Thread(target=run, name="docs-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the API did not start"
    try:
        yield api_url(sock)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def with_key(settings: Settings, key: str | None) -> Settings:
    return Settings.model_validate({**settings.model_dump(), "api": {**settings.api.model_dump(), "api_key": key}})


def open_docs(page: LoopbackPage, base: str) -> None:
    page.page.goto(f"{base}/docs")
    page.page.wait_for_selector(".opblock", timeout=30_000)


def operations_shown(page: LoopbackPage) -> list[tuple[str, str]]:
    rows = page.page.locator(".opblock-summary")
    methods = rows.locator(".opblock-summary-method").all_inner_texts()
    paths = rows.locator(".opblock-summary-path").all_inner_texts()
    return sorted(zip((m.lower() for m in methods), paths, strict=True))


def operation(page: LoopbackPage, method: str, path: str) -> Any:
    block = page.page.locator(f".opblock-{method}").filter(
        has=page.page.locator(".opblock-summary-path", has_text=path)
    )
    return block.filter(has=page.page.locator(f".opblock-summary-path[data-path='{path}']")).first


def try_it_out(page: LoopbackPage, method: str, path: str) -> tuple[int, str]:
    """Expand the operation, "Try it out", fill what the corpus needs, "Execute"; the status and body shown."""
    block = operation(page, method, path)
    if not block.locator("button.try-out__btn").is_visible():
        block.locator(".opblock-summary").click()
    if block.locator("button.try-out__btn.cancel").count() == 0:
        block.locator("button.try-out__btn").click()
    for name, value in FILL.items():
        field = block.locator(f"tr[data-param-name='{name}'] input")
        if field.count():
            field.fill(value)
    for name, value in CHOOSE.items():
        choice = block.locator(f"tr[data-param-name='{name}'] select")
        if choice.count():
            choice.select_option(value)
    clear = block.locator("button.btn-clear")
    if clear.count():  # the answer of an earlier "Execute": gone before this one comes
        clear.click()
        block.locator(".live-responses-table").wait_for(state="detached")
    block.locator("button.execute").click()
    status = block.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for(timeout=30_000)
    body = block.locator(".live-responses-table tbody .response-col_description").first.inner_text()
    return int(status.inner_text().split()[0]), body


def screenshot_answer(page: LoopbackPage, method: str, path: str, name: str) -> None:
    """The answer "Try it out" shows for one operation, as ``build/screenshots/<name>.png`` (the whole page
    with every operation open is too tall to read)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    answer = operation(page, method, path).locator(".live-responses-table").first
    answer.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def authorize(page: LoopbackPage, key: str) -> None:
    """Swagger UI's "Authorize": the key into the X-API-Key scheme, as a user types it."""
    page.page.locator("button.authorize").first.click()
    dialog = page.page.locator(".modal-ux")
    dialog.wait_for()
    scheme = dialog.locator(".auth-container").filter(has_text="X-API-Key")
    scheme.locator("input").fill(key)
    scheme.locator("button.authorize").click()
    dialog.locator("button.btn-done").first.click()


def documented_operations(base: str) -> list[tuple[str, str]]:
    schema = httpx.get(f"{base}/openapi.json", timeout=30).json()
    return sorted((method, path) for path, item in schema["paths"].items() for method in item)


def answering_operations(base: str) -> list[tuple[str, str]]:
    """The operations "Try it out" can run as they are: reads (GET) that need no path parameter (an id
    to make up) and answer at once (not the live tail's endless event stream)."""
    schema = httpx.get(f"{base}/openapi.json", timeout=30).json()
    found = []
    for path, item in schema["paths"].items():
        answers = item.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
        if "get" in item and "{" not in path and "text/event-stream" not in answers:
            found.append(("get", path))
    return sorted(found)


def test_docs_shows_every_operation_and_try_it_out_answers(
    corpus_settings: Settings, loopback_page: LoopbackPage
) -> None:
    with serving(with_key(corpus_settings, None)) as base:
        open_docs(loopback_page, base)
        shown = operations_shown(loopback_page)
        assert shown == documented_operations(base)
        assert len(shown) >= 7
        assert "Unable to render this definition" not in loopback_page.page.content()
        loopback_page.screenshot("docs-every-operation")
        answering = answering_operations(base)
        assert len(answering) >= 10, answering
        for method, path in answering:
            status, body = try_it_out(loopback_page, method, path)
            assert status == 200, f"{method.upper()} {path} answered {status}: {body[:300]}"
        status, body = try_it_out(loopback_page, "get", "/api/v1/events")
        assert '"total": 2400' in body
        screenshot_answer(loopback_page, "get", "/api/v1/events", "docs-try-it-out")
    assert loopback_page.console_errors == []


def test_docs_with_an_api_key_loads_and_try_it_out_needs_authorize(
    corpus_settings: Settings, loopback_page: LoopbackPage
) -> None:
    with serving(with_key(corpus_settings, KEY)) as base:
        open_docs(loopback_page, base)
        assert operations_shown(loopback_page) == documented_operations(base)
        status, body = try_it_out(loopback_page, "get", "/api/v1/events")
        assert status == 401 and "API key" in body
        screenshot_answer(loopback_page, "get", "/api/v1/events", "docs-key-refused")
        authorize(loopback_page, KEY)
        status, body = try_it_out(loopback_page, "get", "/api/v1/events")
        assert status == 200 and '"total": 2400' in body
        status, _ = try_it_out(loopback_page, "get", "/api/v1/stats/top")
        assert status == 200
        screenshot_answer(loopback_page, "get", "/api/v1/stats/top", "docs-key-authorized")
