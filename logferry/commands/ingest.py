"""`logferry ingest`, `run` and `demo`: the embedded path from files (or stdin) into DuckDB by default.

Like every pipeline command, each is its defaults and flags over ``logferry.assemble``: the config's
``[source]`` and ``[sink]`` decide what runs, so ``[sink] type = "elasticsearch"`` makes ``run`` tail into
Elasticsearch.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING

import click

from core.errors import ConfigError, LogferryError
from core.outcomes import DEAD_LETTERED
from ingest.pipeline import Pipeline, RunStats, Sink
from logferry.assemble import assemble
from logferry.command_settings import settings_for
from logferry.components import day_store, query_app
from logferry.config import Settings
from logferry.sample import write_sample

if TYPE_CHECKING:
    from store.day_store import DayStore


def run_pipeline(settings: Settings, *, once: bool, serve: bool = False) -> tuple[RunStats, Sink]:
    """Assemble and run until done (``once``) or signalled; configuration mistakes are usage errors."""
    try:
        pipeline = assemble(settings, once=once)
        if serve:
            start_api_thread(settings, pipeline.stop)
        stats = run_until_signal(pipeline, once=once)
        for note in getattr(pipeline.source, "notes", list)():
            click.echo(note, err=True)
        return stats, pipeline.sink
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    except LogferryError as exc:
        raise click.ClickException(str(exc)) from exc


def run_until_signal(pipeline: Pipeline, *, once: bool) -> RunStats:
    """Run; SIGINT/SIGTERM make the pipeline flush, checkpoint and return."""

    def _stop(signum: int, _frame: object) -> None:
        pipeline.stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, _stop)
    try:
        return pipeline.run(once=once)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if pipeline.progress is not None:
            pipeline.progress(pipeline.stats, pipeline.source)
            sys.stderr.write("\n")


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def summary(stats: RunStats, sink: Sink) -> str:
    elapsed = time.monotonic() - stats.started
    dead_lettered = sink.counts.total(DEAD_LETTERED)
    return (
        f"{stats.lines:,} lines read, {stats.written:,} events written, "
        f"{dead_lettered:,} dead-lettered in {elapsed:.1f}s ({stats.lines / max(elapsed, 1e-9):,.0f} lines/s)"
    )


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-v", "--verbose", is_flag=True, help="Log progress and retries.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[str, ...], verbose: bool) -> None:
    """Read PATH_OR_GLOB… to the end once, write to DuckDB, checkpoint, exit (like `filebeat --once`).

    Run again on the same files and nothing new is written. `-` reads standard input. The sink is
    [sink] type of the config (DuckDB unless it says otherwise).
    """
    configure_logging(verbose)
    if paths == ("-",):
        settings = settings_for(ctx, source={"type": "stdin"})
    else:
        settings = settings_for(ctx, source={"type": "file"}, input={"paths": list(paths)})
    stats, sink = run_pipeline(settings, once=True)
    click.echo(summary(stats, sink), err=True)


@click.command()
@click.option("-v", "--verbose", is_flag=True, help="Log progress and retries.")
@click.option("--serve/--no-serve", default=True, help="Serve the query API in the same process.")
@click.pass_context
def run(ctx: click.Context, verbose: bool, serve: bool) -> None:
    """Tail the configured inputs continuously into DuckDB until SIGINT/SIGTERM (then flush, checkpoint).

    [source] and [sink] of the config choose other components (a file source and DuckDB by default).
    """
    configure_logging(verbose)
    stats, sink = run_pipeline(settings_for(ctx), once=False, serve=serve)
    click.echo(summary(stats, sink), err=True)


def start_api_thread(settings: Settings, stop: threading.Event) -> None:
    """Serve the query API beside the pipeline; it takes turns with the writer (``StoreGate``)."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(
            query_app(settings),
            host=settings.api.host,
            port=settings.api.port,
            log_level="warning",
            timeout_graceful_shutdown=3,  # an open live tail must not hold the stop up
        )
    )

    def stop_with_pipeline() -> None:
        stop.wait()
        server.should_exit = True

    threading.Thread(target=server.run, name="api", daemon=True).start()
    threading.Thread(target=stop_with_pipeline, name="api-stop", daemon=True).start()


@click.command()
@click.option("--lines", default=300_000, show_default=True, help="How many sample lines to generate.")
@click.pass_context
def demo(ctx: click.Context, lines: int) -> None:
    """Generate a realistic sample (4 services, errors, slow requests, a rotation), ingest it, show it."""
    configure_logging(False)
    settings = settings_for(ctx)
    logs = settings.data_dir / "demo-logs"
    if not logs.is_dir():
        click.echo(f"writing {lines:,} sample lines to {logs}/ …", err=True)
        write_sample(logs, lines)
    paths = [str(logs / "*.log"), str(logs / "*.log.1")]
    settings = settings_for(ctx, source={"type": "file"}, sink={"type": "duckdb"}, input={"paths": paths})
    stats, sink = run_pipeline(settings, once=True)
    click.echo(summary(stats, sink))
    click.echo(demo_report(day_store(settings)))
    data = settings.data_dir
    click.echo(
        "\nTry next:\n"
        f"  logferry --data-dir {data} search 'level:error' --from now-24h\n"
        f"  logferry --data-dir {data} search 'tags:slow_request AND responseTime:>2000'\n"
        f"  logferry --data-dir {data} stats errors --interval 1h --by endpoint\n"
        f"  logferry --data-dir {data} serve      # then open http://127.0.0.1:8080/ (the API: /docs)\n"
        f"  logferry --data-dir {data} ingest {logs}/*.log   # again: nothing new is written"
    )


def demo_report(store: DayStore) -> str:
    """A few figures straight from the DuckDB files, to show what landed."""
    days = store.days()
    if not days:
        return "no events stored"
    total, errors, slow = 0, 0, 0
    endpoints: dict[str, int] = {}
    for day in days:
        con = store.connect(day)
        try:
            t, e, s = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE list_contains(tags, 'error')),"
                " count(*) FILTER (WHERE list_contains(tags, 'slow_request')) FROM events"
            ).fetchone() or (0, 0, 0)
            total, errors, slow = total + t, errors + e, slow + s
            for endpoint, n in con.execute(
                "SELECT endpoint, count(*) FROM events WHERE list_contains(tags, 'error') AND endpoint IS NOT NULL"
                " GROUP BY 1"
            ).fetchall():
                endpoints[endpoint] = endpoints.get(endpoint, 0) + n
        finally:
            con.close()
    top = sorted(endpoints.items(), key=lambda kv: -kv[1])[:5]
    lines = [
        f"\nstored: {total:,} events in {len(days)} day file(s) under {store.directory} "
        f"({days[0].isoformat()} … {days[-1].isoformat()}, UTC)",
        f"errors: {errors:,}   slow requests: {slow:,}",
        "endpoints with most errors:",
        *(f"  {n:>7,}  {endpoint}" for endpoint, n in top),
    ]
    return "\n".join(lines)
