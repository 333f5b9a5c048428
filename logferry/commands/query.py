"""`logferry serve`, `search` and `stats errors|top|latency`: the query side on the command line.

``search`` and ``stats`` ask a running API (``--url``) or open the configured store directly (the
embedded data dir by default), through the same backend methods and answer (``query.answer``) as the
API, and print a readable terminal view, CSV (``--csv``) or JSON (``--json``), with the time window in
force and any warning about the query.
"""

from __future__ import annotations

import functools
import signal
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
import orjson

from logferry.command_groups import WholeSummaryGroup
from logferry.command_settings import settings_for
from logferry.commands.options import announce, api_server, bind_api, listen_options
from logferry.commands.render import (
    BAR,
    ESTIMATED,
    event_line,
    field_value,
    line_width,
    picked,
    table,
    terminal_width,
    text,
    warn,
    window_text,
    write_csv,
)
from query.filters import FILTER_PARAMS

if TYPE_CHECKING:
    from logferry.config import Settings
    from query.filters import Filters

EVENTS = "/api/v1/events"
ERRORS_OVER_TIME = "/api/v1/stats/errors-over-time"
TOP = "/api/v1/stats/top"
LATENCY = "/api/v1/stats/latency"
DEFAULT_FIELDS = (
    "@timestamp",
    "log.level",
    "http.response.status_code",
    "endpoint",
    "user.id",
    "error.type",
    "message",
)


def require_data_dir(settings: Settings) -> None:
    """Reading the embedded store needs its data dir: a missing one is a mistake, not an empty store."""
    if settings.api.backend == "duckdb" and not settings.data_dir.is_dir():
        raise click.ClickException(
            f"data dir {settings.data_dir} does not exist: give the one `logferry ingest` wrote"
            " (--data-dir DIR, before or after the command) or ingest something first"
        )


@click.command()
@listen_options
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
    """Serve the web page (at /) and the query API (Swagger UI at /docs) over the embedded data dir or
    Elasticsearch."""
    from core.errors import ConfigError
    from elastic.naming import validate_prefix
    from logferry.alerting import start_alerts

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
    sock = bind_api(settings.api.host, settings.api.port)
    _, run = api_server(settings, sock)
    stop = threading.Event()
    try:
        evaluator = start_alerts(settings, stop)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    announce(sock, settings.api.backend, err=False)
    # uvicorn shuts down on SIGTERM and raises it again once done; handled here, the process ends by
    # returning, after the alert evaluator stopped and let its lease go.
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    try:
        run()
    finally:
        stop.set()
        if evaluator is not None:
            evaluator.stop()
        signal.signal(signal.SIGTERM, previous)


def filter_options(*, q_argument: bool, csv: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The filters of ``query.filters.FILTER_PARAMS`` as options (Q as an argument or as ``-q/--query``).

    The command receives them as one ``filters`` dict named like the API's parameters, plus the
    options every query command has: ``--url``, ``--api-key`` and the output, ``output`` (``--json``
    or, where ``csv``, ``--csv``; else ``table``).
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def with_filters(*args: Any, **kwargs: Any) -> Any:
            chosen = {p.name: kwargs.pop(p.arg) for p in FILTER_PARAMS}
            as_json, as_csv = kwargs.pop("as_json"), kwargs.pop("as_csv", False)
            if as_json and as_csv:
                raise click.UsageError("give --json or --csv, not both")
            output = "json" if as_json else "csv" if as_csv else "table"
            return fn(*args, filters=chosen, output=output, **kwargs)

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
            click.option("--json", "as_json", is_flag=True, help="Machine-readable output (JSON)."),
        ]
        if csv:
            decorators.append(click.option("--csv", "as_csv", is_flag=True, help="CSV output, a header row first."))
        for decorator in reversed(decorators):
            with_filters = decorator(with_filters)
        return with_filters

    return decorate


class QueryClient:
    """One request, answered by a running API or by the store directly (same methods, same answer)."""

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
        """What the API's ``route`` answers, from the store (``self._backend``) directly: the same backend
        methods, and the same window and warnings (``query.answer``)."""
        from query.answer import answered
        from query.timerange import interval_ms

        store = self._backend
        if route == EVENTS:
            result = store.search_events(f, params["limit"], params.get("sort", "desc"), params.get("cursor"))
        elif route == ERRORS_OVER_TIME:
            name, width = interval_ms(params["interval"], f.start, f.end, settings.api.max_buckets)
            result = store.errors_over_time(f, name, width, params.get("by"), params["top"])
        elif route == TOP:
            result = store.top(f, params["field"], params["limit"], bool(params.get("errors")))
        elif route == LATENCY:
            result = store.latency(f, params.get("by"), params["limit"], params.get("sort", "count"))
        else:
            raise AssertionError(f"no local answer for {route}")
        return dict(answered(store, f, result))


def default_window(filters: dict[str, Any]) -> bool:
    return not filters.get("from") and not filters.get("to")


def fields_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--fields",
        default=None,
        metavar="FIELD,…",
        help="Fields to show, by dotted name (error.type,user.id,message); with --json, only those.",
    )(fn)


@click.command()
@filter_options(q_argument=True)
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True, help="Events to show.")
@fields_option
@click.pass_context
def search(
    ctx: click.Context,
    filters: dict[str, str | None],
    api_url: str | None,
    api_key: str | None,
    output: str,
    limit: int,
    fields: str | None,
) -> None:
    """Events matching Q (Lucene syntax: level:error AND userId:"u1") and the filter options, newest first.

    A bare word searches message, error.message and error.stack_trace; field names are ECS names or the
    names your logs use (userId, event, exception…).
    """
    client = QueryClient(ctx, api_url, api_key)
    chosen = [name.strip() for name in fields.split(",") if name.strip()] if fields else None
    shown, cursor, total = 0, None, 0
    rows: list[dict[str, Any]] = []
    first: dict[str, Any] | None = None
    while shown < limit:
        page = client.get(EVENTS, {**filters, "limit": min(1000, limit - shown), "cursor": cursor})
        if first is None:
            first = page
            warn(page.get("warnings", ()))
            if output == "csv":
                write_csv(chosen or DEFAULT_FIELDS, ())
        total = page["total"]
        for event in page["events"]:
            if output == "json":
                sys.stdout.buffer.write(orjson.dumps(picked(event, chosen) if chosen else event) + b"\n")
            elif output == "csv":
                write_csv(None, [[field_value(event, name) for name in chosen or DEFAULT_FIELDS]])
            else:
                rows.append(event)
        shown += len(page["events"])
        cursor = page["next"]
        if cursor is None:
            break
    if output == "table":
        if chosen:
            cells = [[text(field_value(e, name)) for name in chosen] for e in rows]
            for line in table(chosen, cells, [False] * len(chosen)):
                click.echo(line)
        else:
            width = line_width()
            for event in rows:
                click.echo(event_line(event, width))
    if first is not None and output != "json":
        where = window_text(first.get("window"), default=default_window(filters))
        click.echo(f"-- {shown:,} of {total:,} matching event(s), {where}", err=True)


@click.group(cls=WholeSummaryGroup)
def stats() -> None:
    """Errors over time, the most frequent values, latency."""


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
    output: str,
    interval: str,
    by: str | None,
    top: int,
    all_buckets: bool,
) -> None:
    """Error counts per time bucket as a bar chart, optionally split by endpoint, user or service."""
    result = QueryClient(ctx, api_url, api_key).get(
        ERRORS_OVER_TIME, {**filters, "interval": interval, "by": by, "top": top}
    )
    if output == "json":
        click.echo(orjson.dumps(result).decode())
        return
    warn(result.get("warnings", ()))
    if output == "csv":
        keys = list(result["buckets"][0]["series"]) if result["buckets"] else []
        write_csv(
            ["start", "count", *keys], ([b["start"], b["count"], *b["series"].values()] for b in result["buckets"])
        )
        return
    _print_chart(result, all_buckets, default_window(filters))


def _print_chart(result: dict[str, Any], all_buckets: bool, default: bool) -> None:
    buckets = result["buckets"]
    peak = max((b["count"] for b in buckets), default=0)
    width = max(10, min(60, terminal_width() - 60))
    total = sum(b["count"] for b in buckets)
    where = window_text(result.get("window"), default=default)
    click.echo(f"errors per {result['interval']}: {total} in {len(buckets)} bucket(s), peak {peak}, {where}")
    for b in buckets:
        if not b["count"] and not all_buckets:
            continue
        bar = BAR * max(1, round(b["count"] / peak * width)) if b["count"] else ""
        series = "  ".join(f"{k}={n}" for k, n in b["series"].items() if n)
        click.echo(f"{b['start'][:16].replace('T', ' ')}  {b['count']:>6}  {bar:<{width}}  {series}")


TOP_FIELDS = {
    "endpoint": "endpoint",
    "user": "user.id",
    "error.type": "error.type",
    "service": "service.name",
    "status": "http.response.status_code",
}


@stats.command("top")
@click.argument("field", type=click.Choice(list(TOP_FIELDS)))
@filter_options(q_argument=False)
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="Values to list.")
@click.option("--errors", "errors_only", is_flag=True, help="Count only error events.")
@click.pass_context
def top(
    ctx: click.Context,
    field: str,
    filters: dict[str, str | None],
    api_url: str | None,
    api_key: str | None,
    output: str,
    limit: int,
    errors_only: bool,
) -> None:
    """The most frequent values of FIELD among the matching events (with --errors: among the errors)."""
    result = QueryClient(ctx, api_url, api_key).get(
        TOP, {**filters, "field": field, "limit": limit, "errors": "true" if errors_only else None}
    )
    if output == "json":
        click.echo(orjson.dumps(result).decode())
        return
    warn(result.get("warnings", ()))
    rows = [(entry["key"], entry["count"]) for entry in result["top"]]
    if output == "csv":
        write_csv(
            [TOP_FIELDS[field], "count"],
            [*rows, ("(other values)", result["other"]), ("(no value)", result["missing"])],
        )
        return
    what = "error events" if errors_only else "events"
    where = window_text(result.get("window"), default=default_window(filters))
    click.echo(f"top {TOP_FIELDS[field]} among {result['total']:,} {what}, {where}")
    cells = [[f"{n:,}", text(key)] for key, n in rows]
    cells += [[f"{result['other']:,}", "(other values)"], [f"{result['missing']:,}", "(no value)"]]
    for line in table(["count", TOP_FIELDS[field]], cells, [True, False]):
        click.echo(line)


LATENCY_COLUMNS = ("count", "p50", "p95", "p99", "max", "slow")


@stats.command("latency")
@filter_options(q_argument=False)
@click.option("--by", type=click.Choice(["endpoint"]), default=None, help="A row per endpoint.")
@click.option(
    "--sort",
    type=click.Choice(["count", *LATENCY_COLUMNS[1:]]),
    default="count",
    show_default=True,
    help="Which rows --by lists: most events, or the highest p95… (the slowest).",
)
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True, help="Rows listed with --by.")
@click.pass_context
def latency(
    ctx: click.Context,
    filters: dict[str, str | None],
    api_url: str | None,
    api_key: str | None,
    output: str,
    by: str | None,
    sort: str,
    limit: int,
) -> None:
    """Request duration percentiles (ms) and slow requests, overall and per endpoint."""
    result = QueryClient(ctx, api_url, api_key).get(LATENCY, {**filters, "by": by, "sort": sort, "limit": limit})
    if output == "json":
        click.echo(orjson.dumps(result).decode())
        return
    warn(result.get("warnings", ()))
    rows = [("(all)", result["overall"]), *((s["key"], s) for s in result["series"])]
    if output == "csv":
        write_csv(
            ["key", *LATENCY_COLUMNS, "exact"], ([key, *(s[c] for c in LATENCY_COLUMNS), s["exact"]] for key, s in rows)
        )
        return
    where = window_text(result.get("window"), default=default_window(filters))
    order = f", the {len(result['series'])} with the highest {sort}" if by and sort != "count" else ""
    click.echo(f"request duration in ms, {where}{order}")
    cells = [[text(key), *(_figure(s, c) for c in LATENCY_COLUMNS)] for key, s in rows]
    for line in table([by or "", *LATENCY_COLUMNS], cells, [False, *[True] * len(LATENCY_COLUMNS)]):
        click.echo(line)
    if any(not s["exact"] for _, s in rows):
        click.echo(f"{ESTIMATED} estimated percentiles (Elasticsearch's t-digest, for very many distinct durations)")


def _figure(stats: dict[str, Any], column: str) -> str:
    value = stats[column]
    if value is None:
        return "-"
    shown = f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
    return f"{ESTIMATED}{shown}" if column in ("p50", "p95", "p99") and not stats["exact"] else shown
