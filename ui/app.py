"""``install_ui``: the web page's routes, static files and login on the query API's app."""

from __future__ import annotations

import urllib.parse
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware

from query.api_params import LOGIN_ROUTE, SESSION_COOKIE, RequireApiKey, session_token
from ui.pages import HERE, STATIC_ROUTE, LoginRequired, login_url, render, same_site
from ui.views import VIEWS

LOGOUT_ROUTE = "/logout"
SESSION_DAYS = 30


class CachedStatic(StaticFiles):
    """The page's scripts and styles: kept by the browser a day (revalidated after), so a page load sends HTML only."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response


def install_ui(app: FastAPI) -> None:
    """Pages at ``/`` (one route and one template per view, ``ui.views.VIEWS``), ``/login``, static files."""
    app.mount(STATIC_ROUTE, CachedStatic(directory=str(HERE / "static")), name="ui-static")
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    for view in VIEWS:
        app.include_router(view.router, include_in_schema=False)

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(login_url(request), status_code=303)

    @app.get(LOGIN_ROUTE, include_in_schema=False, response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/") -> HTMLResponse:
        return render(request, "login.html", next=_local(next), error=None, key_needed=_guard(request) is not None)

    @app.post(LOGIN_ROUTE, include_in_schema=False, dependencies=[Depends(same_site)])
    async def login(request: Request) -> Response:
        """The key from the form, once; the answer sets the HttpOnly, SameSite=Strict login cookie."""
        form = urllib.parse.parse_qs((await request.body()).decode(errors="replace"))
        key = (form.get("key") or [""])[0]
        target = _local((form.get("next") or ["/"])[0])
        guard = _guard(request)
        if guard is None:
            return RedirectResponse(target, status_code=303)
        if not guard.key_matches(key):
            return render(request, "login.html", status_code=401, next=target, error="wrong key", key_needed=True)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            session_token_of(request),
            max_age=SESSION_DAYS * 86400,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    @app.post(LOGOUT_ROUTE, include_in_schema=False, dependencies=[Depends(same_site)])
    def logout() -> Response:
        response = RedirectResponse(LOGIN_ROUTE, status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response


def _guard(request: Request) -> RequireApiKey | None:
    guard: RequireApiKey | None = request.app.state.key_guard
    return guard


def session_token_of(request: Request) -> str:
    key = request.app.state.api_config.api_key
    assert key is not None
    return session_token(key)


def _local(target: str) -> str:
    """Only a path on this server is a place to go back to after login (no open redirect)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
