"""What every view shares: the templates, the key check for pages, the filters of the URL and the time window."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from core.errors import QueryError
from query.api_params import LOGIN_ROUTE, SESSION_COOKIE, RequireApiKey
from query.backend import Backend
from query.filters import Filters, filters_from_params
from ui.state import QUICK_RANGES, State

T = TypeVar("T")
HERE = Path(__file__).resolve().parent
STATIC_ROUTE = "/ui/static"
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["static"] = lambda name: f"{STATIC_ROUTE}/{name}"
templates.env.globals["quick_ranges"] = QUICK_RANGES


def _pretty(doc: Any) -> str:
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


def _script_json(value: Any) -> Markup:
    """JSON safe inside ``<script type="application/json">`` (no ``</`` can end the element)."""
    return Markup(orjson.dumps(value).decode().replace("</", "<\\/"))


templates.env.filters["pretty"] = _pretty
templates.env.filters["script_json"] = _script_json


class LoginRequired(Exception):
    """A page was asked for without the key; the handler sends the browser to the login form."""


def page_guard(request: Request) -> None:
    """Pages take the key as the API does (header or login cookie); a browser without it is sent to log in."""
    guard: RequireApiKey | None = request.app.state.key_guard
    if guard is None:
        return
    bearer = request.headers.get("authorization", "")
    token = bearer[7:] if bearer.lower().startswith("bearer ") else None
    if not guard.allows(request.headers.get("x-api-key"), token, request.cookies.get(SESSION_COOKIE)):
        raise LoginRequired()


def same_site(request: Request) -> None:
    """A form the page posts (save, delete, log in or out) must come from a page of this server: the
    login cookie is SameSite=Strict, but without a key there is no cookie, so the browser's own
    ``Sec-Fetch-Site`` says where the form was."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise HTTPException(403, "this form is accepted from this server's own pages only")


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    from urllib.parse import urlencode

    return f"{LOGIN_ROUTE}?{urlencode({'next': target})}"


def backend(request: Request) -> Backend:
    store: Backend = request.app.state.backend
    return store


@dataclass
class Window:
    """The time range in force, as the page shows it: always both ends, in UTC, and how long."""

    start: dt.datetime
    end: dt.datetime
    given_from: str | None
    given_to: str | None

    @property
    def text(self) -> str:
        fmt = "%Y-%m-%d %H:%M:%S"
        return f"{self.start.strftime(fmt)} → {self.end.strftime(fmt)} UTC"

    @property
    def span(self) -> str:
        seconds = (self.end - self.start).total_seconds()
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if seconds >= size:
                value = seconds / size
                return f"{value:.0f} {unit}" if value >= 10 or value.is_integer() else f"{value:.1f} {unit}"
        return f"{seconds:.1f} s"

    @property
    def relative(self) -> str | None:
        """``last 24 h`` when the range is relative to now."""
        if self.given_from and self.given_from.startswith("now") and (self.given_to or "now") == "now":
            return f"last {self.given_from[4:]}" if self.given_from.startswith("now-") else None
        if not self.given_from and not self.given_to:
            return "last 24h (default)"
        return None


def page_filters(request: Request, state: State) -> tuple[Filters | None, str | None, Window | None]:
    """The URL's filters as the API builds them, or the API's 422 text for the page to show inline."""
    try:
        f = filters_from_params(state.filters, templater=request.app.state.templater)
    except QueryError as exc:
        return None, str(exc), None
    return f, None, Window(f.start, f.end, state.get("from"), state.get("to"))


def ask(request: Request, state: State, question: Callable[[Filters], T]) -> tuple[T | None, str | None, Window | None]:
    """The answer to ``question`` over the URL's filters, or the API's 422 text instead."""
    f, error, window = page_filters(request, state)
    if f is None:
        return None, error, window
    try:
        return question(f), None, window
    except QueryError as exc:
        return None, str(exc), window


def bounded_int(state: State, name: str, default: int, low: int, high: int) -> int:
    """A number the page passes to the API (``limit``, ``sample``) within the API's bounds; a value outside
    them is the API's kind of mistake, said the API's way (a ``QueryError`` inside ``ask``)."""
    text = state.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise QueryError(f"{name} {text!r} is not a whole number from {low:,} to {high:,}")
    return value


def render(request: Request, template: str, status_code: int | None = None, **context: Any) -> HTMLResponse:
    """A page; unless ``status_code`` says otherwise, 422 when it shows an ``error`` (the API's answer to
    the same question), else 200."""
    from ui.views import VIEWS

    if status_code is None:
        status_code = 422 if context.get("error") else 200

    context.setdefault("state", State(request.query_params))
    context["views"] = VIEWS
    context["logged_in"] = request.app.state.key_guard is not None
    context["path"] = request.url.path
    response: HTMLResponse = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response
