"""Browser fixtures: a real headless Chromium (Debian's, installed by scripts/browser) driven by Playwright.

Playwright's own browser download is not used: it launches the system Chromium via ``executable_path``
(``LOGFERRY_CHROMIUM`` names another binary). Every page a test opens is confined to loopback: a
request to any other host is aborted and recorded, and the test fails at teardown naming it, so "no
request leaves 127.0.0.1" is checked for every page test rather than by one.

Tests that use ``browser`` or ``loopback_page`` are marked ``browser`` (and ``integration``); without
a Chromium they are skipped with the reason, and under LOGFERRY_REQUIRE_SERVICES=1 that skip fails.
"""

from __future__ import annotations

import os
import shutil
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = Path(os.environ.get("LOGFERRY_SCREENSHOTS", REPO_ROOT / "build" / "screenshots"))
BROWSER_FIXTURES = frozenset({"browser", "loopback_page", "new_loopback_page"})
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
CHROMIUM_ARGS = [
    # What a closed network needs: no background connections to Google's hosts at start or while idle.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--metrics-recording-only",
    "--disable-dev-shm-usage",
]


def chromium_executable() -> str | None:
    """The Chromium the tests drive: LOGFERRY_CHROMIUM, else ``chromium`` on the PATH."""
    configured = os.environ.get("LOGFERRY_CHROMIUM")
    if configured:
        return configured
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session (new contexts keep tests apart)."""
    executable = chromium_executable()
    if executable is None:
        pytest.skip("no Chromium: run scripts/browser (apt-get install chromium) or set LOGFERRY_CHROMIUM")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@dataclass
class LoopbackPage:
    """A page whose requests may only reach loopback; ``offsite`` lists the ones that were aborted."""

    page: Any
    offsite: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        """Save the whole page as ``build/screenshots/<name>.png`` (LOGFERRY_SCREENSHOTS moves it)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def _open_loopback_page(browser: Any, **context_options: Any) -> tuple[Any, LoopbackPage]:
    context = browser.new_context(**{"viewport": {"width": 1440, "height": 900}, **context_options})
    page = context.new_page()
    confined = LoopbackPage(page)

    def route(route: Any) -> None:
        url = route.request.url
        parts = urllib.parse.urlsplit(url)
        if parts.scheme in ("data", "blob", "about") or (parts.hostname or "") in LOOPBACK_HOSTS:
            route.continue_()
        else:
            confined.offsite.append(url)
            route.abort()

    context.route("**/*", route)
    page.on("console", lambda message: message.type == "error" and confined.console_errors.append(message.text))
    page.on("pageerror", lambda error: confined.console_errors.append(f"pageerror: {error}"))
    return context, confined


@pytest.fixture
def new_loopback_page(browser: Any) -> Iterator[Callable[..., LoopbackPage]]:
    """Open further confined pages (own contexts: own cookies) within one test."""
    opened: list[tuple[Any, LoopbackPage]] = []

    def open_page(**context_options: Any) -> LoopbackPage:
        context, confined = _open_loopback_page(browser, **context_options)
        opened.append((context, confined))
        return confined

    yield open_page
    offsite = [url for _, confined in opened for url in confined.offsite]
    for context, _ in opened:
        context.close()
    assert not offsite, f"requests left 127.0.0.1: {offsite}"


@pytest.fixture
def loopback_page(new_loopback_page: Callable[..., LoopbackPage]) -> LoopbackPage:
    """A fresh page in a fresh context, confined to loopback (checked at teardown)."""
    return new_loopback_page()
