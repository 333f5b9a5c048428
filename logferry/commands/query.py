"""`logferry serve`, `logferry search` and `logferry stats errors`: the query side on the command line.

``search`` and ``stats`` ask a running API (``--url``) or open the configured store directly
(the embedded data dir by default), and both print either a readable terminal view or JSON.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import click
import orjson

from logferry.command_groups import WholeSummaryGroup
from logferry.command_settings import settings_for
from query.filters import FILTER_PARAMS

if TYPE_CHECKING:
    from logferry.config import Settings
    from query.filters import Filters

BAR = "█"
GRACEFUL_SHUTDOWN_SECONDS = 3
LEVEL_COLOURS = {"error": "red", "fatal": "red", "critical": "red", "warn": "yellow", "debug": "blue"}


def require_data_dir(settings: Settings) -> None:
    """Reading the embedded store needs its data dir: a missing one is a mistake, not an empty store."""
    if settings.api.backend == "duckdb" and not settings.data_dir.is_dir():
        raise click.ClickException(
            f"data dir {settings.data_dir} does not exist: give the one `logferry ingest` wrote"
            " (--data-dir DIR, before or after the command) or ingest something first"
        )


@click.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8080).")
@click.option("--backend", type=click.Choice(["duckdb", "elasticsearch"]), default=None)
@click.option("--es-url", default=None, help="Elasticsearch URL (with --backend elasticsearch).")
@click.option("--index-prefix", default=None, help="Daily indices <prefix>-YYYY.MM.DD.")
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    backend: str | None,
    es_url: str | None,
    index_prefix: str | None,
) -> None:
    """Serve the web page (at /) and the query API (OpenAPI at /docs) over the embedded data dir or Elasticsearch."""
    import uvicorn

    from core.errors import ConfigError
    from elastic.naming import validate_prefix
    from logferry.components import query_app

    _CleanExit = _clean_exit_server()

    settings = settings_for(
        ctx,
        api={"host": host, "port": port, "backend": backend},
        elasticsearch={"hosts": [es_url] if es_url else None, "index_prefix": index_prefix},
    )
    require_data_dir(settings)
    if settings.api.backend == "elasticsearch":
        try:
            validate_prefix(settings.elasticsearch.index_prefix)
        except ConfigError as exc:
            raise click.UsageError(str(exc)) from None
    base = f"http://{settings.api.host}:{settings.api.port}"
    click.echo(f"serving the {settings.api.backend} backend: the page at {base}/, the API's docs at {base}/docs")
    # A live tail's stream stays open: on SIGINT wait for open requests a few seconds, not for ever.
    config = uvicorn.Config(
        query_app(settings),
        host=settings.api.host,
        port=settings.api.port,
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    _CleanExit(config).run()


def _clean_exit_server() -> type:
    import uvicorn

    class CleanExit(uvicorn.Server):
        """uvicorn raises the signal that stopped it again once it has shut down, so the process ended
        killed by it (exit -15): a shutdown on SIGINT/SIGTERM is a clean one here, exit 0, as ``run``'s."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return CleanExit


def filter_options(*, q_argument: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The filters of ``query.filters.FILTER_PARAMS`` as options (Q as an argument or as ``-q/--query``).

    The command receives them as one ``filters`` dict named like the API's parameters, plus the
    options every query command has: ``--url``, ``--api-key`` and ``--json``.
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def with_filters(*args: Any, **kwargs: Any) -> Any:
            chosen = {p.name: kwargs.pop(p.arg) for p in FILTER_PARAMS}
            return fn(*args, filters=chosen, **kwargs)

        decorators: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = []
        for p in FILTER_PARAMS:
            if p.name == "q":
                query = click.argument("q", required=False) if q_argument else None
                decorators.append(query or click.option("-q", "--query", "q", default=None, help=p.help))
            else:
                decorators.append(click.option(f"--{p.name}", p.arg, default=None, help=p.help))
        decorators += [
            click.option("--url", "api_url", default=None, help="Ask a running API instead of the data dir."),
            click.option("--api-key", default=None, envvar="LOGFERRY_API_KEY", help="Key of that API."),
            click.option("--json", "as_json", is_flag=True, help="Machine-readable output."),
        ]
        for decorator in reversed(decorators):
            with_filters = decorator(with_filters)
        return with_filters

    return decorate


class _Query:
    """One request, answered by a running API or by the store directly (same code path as the API)."""

    def __init__(self, ctx: click.Context, api_url: str | None, api_key: str | None) -> None:
        self.ctx = ctx
        self.api_url = api_url.rstrip("/") if api_url else None
        self.api_key = api_key
        self._backend: Any = None

    def get(self, route: str, params: dict[str, Any]) -> dict[str, Any]:
        params = {k: v for k, v in params.items() if v is not None}
        if self.api_url:
            return self._remote(route, params)
        return self._local(route, params)

    def _remote(self, route: str, params: dict[str, Any]) -> dict[str, Any]:
        import httpx

        headers = {"X-API-Key": self.api_key} if self.api_key else {}
        try:
            resp = httpx.get(f"{self.api_url}{route}", params=params, headers=headers, timeout=60)
        except httpx.HTTPError as exc:
            raise click.ClickException(f"cannot reach {self.api_url}: {exc}") from None
        if resp.status_code == 422:
            detail = resp.json().get("detail")
            raise click.UsageError(detail if isinstance(detail, str) else orjson.dumps(detail).decode())
        if resp.status_code != 200:
            raise click.ClickException(f"{self.api_url} answered {resp.status_code}: {resp.text[:300]}")
        result: dict[str, Any] = resp.json()
        return result

    def _local(self, route: str, params: dict[str, Any]) -> dict[str, Any]:
        from core.errors import LogferryError, QueryError
        from enrich.endpoint import TemplateEndpoint
        from logferry.components import query_backend
        from query.filters import filters_from_params

        settings = settings_for(self.ctx)
        require_data_dir(settings)
        if self._backend is None:
            self._backend = query_backend(settings)
        templater = TemplateEndpoint(settings.processors.template_endpoint).template
        try:
            return self.answer(route, params, filters_from_params(params, templater=templater), settings)
        except QueryError as exc:
            raise click.UsageError(str(exc)) from None
        except LogferryError as exc:
            raise click.ClickException(str(exc)) from None

    def answer(self, route: str, params: dict[str, Any], f: Filters, settings: Settings) -> dict[str, Any]:
        """What the API's ``route`` answers, from the store (``self._backend``) directly."""
        from query.timerange import interval_ms

        if route == "/api/v1/events":
            return dict(self._backend.search_events(f, params["size"], "desc", params.get("cursor")))
        name, width = interval_ms(params["interval"], f.start, f.end, settings.api.max_buckets)
        return dict(self._backend.errors_over_time(f, name, width, params.get("by"), params["top"]))


@click.command()
@filter_options(q_argument=True)
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True, help="Events to show.")
@click.pass_context
def search(
    ctx: click.Context,
    filters: dict[str, str | None],
    api_url: str | None,
    api_key: str | None,
    as_json: bool,
    limit: int,
) -> None:
    """Events matching Q (Lucene syntax: level:error AND userId:"u1") and the filter options, newest first."""
    query = _Query(ctx, api_url, api_key)
    params: dict[str, Any] = dict(filters)
    shown = 0
    cursor = None
    total = 0
    rows: list[dict[str, Any]] = []
    while shown < limit:
        page = query.get("/api/v1/events", {**params, "size": min(1000, limit - shown), "cursor": cursor})
        total = page["total"]
        for event in page["events"]:
            if as_json:
                sys.stdout.buffer.write(orjson.dumps(event) + b"\n")
            else:
                rows.append(event)
        shown += len(page["events"])
        cursor = page["next"]
        if cursor is None:
            break
    if not as_json:
        _print_table(rows, total)


def _print_table(events: list[dict[str, Any]], total: int) -> None:
    width = shutil.get_terminal_size((120, 20)).columns
    for e in events:
        level = str(e.get("log", {}).get("level", "-"))
        http = e.get("http", {})
        status = http.get("response", {}).get("status_code", "")
        where = e.get("endpoint") or e.get("url", {}).get("path") or ""
        user = e.get("user", {}).get("id", "")
        head = f"{e.get('@timestamp', '')[:23]}  {level:<5}  {str(status):>3}  {where:<28.28}  {user:<12.12}  "
        message = str(e.get("message", "")).replace("\n", " ")
        click.echo(click.style(head, fg=LEVEL_COLOURS.get(level)) + message[: max(10, width - len(head))])
    click.echo(f"-- {len(events)} of {total} matching event(s)", err=True)


@click.group(cls=WholeSummaryGroup)
def stats() -> None:
    """Counts over time."""


@stats.command("errors")
@filter_options(q_argument=False)
@click.option("--interval", type=click.Choice(["1m", "5m", "1h", "1d", "auto"]), default="auto", show_default=True)
@click.option("--by", type=click.Choice(["endpoint", "user", "service", "error.type", "status_class"]), default=None)
@click.option("--top", type=click.IntRange(1, 50), default=5, show_default=True, help="Series shown with --by.")
@click.option("--all-buckets", is_flag=True, help="Also draw empty buckets.")
@click.pass_context
def errors(
    ctx: click.Context,
    filters: dict[str, str | None],
    api_url: str | None,
    api_key: str | None,
    as_json: bool,
    interval: str,
    by: str | None,
    top: int,
    all_buckets: bool,
) -> None:
    """Error counts per time bucket as a bar chart, optionally split by endpoint, user or service."""
    result = _Query(ctx, api_url, api_key).get(
        "/api/v1/stats/errors-over-time", {**filters, "interval": interval, "by": by, "top": top}
    )
    if as_json:
        click.echo(orjson.dumps(result).decode())
        return
    _print_chart(result, all_buckets)


def _print_chart(result: dict[str, Any], all_buckets: bool) -> None:
    buckets = result["buckets"]
    peak = max((b["count"] for b in buckets), default=0)
    width = max(10, min(60, shutil.get_terminal_size((120, 20)).columns - 60))
    total = sum(b["count"] for b in buckets)
    click.echo(f"errors per {result['interval']}: {total} in {len(buckets)} bucket(s), peak {peak}")
    for b in buckets:
        if not b["count"] and not all_buckets:
            continue
        bar = BAR * max(1, round(b["count"] / peak * width)) if b["count"] else ""
        series = "  ".join(f"{k}={n}" for k, n in b["series"].items() if n)
        click.echo(f"{b['start'][:16].replace('T', ' ')}  {b['count']:>6}  {bar:<{width}}  {series}")
