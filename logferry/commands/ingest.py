"""`logferry ingest`, `run` and `demo`: the embedded path from files (or stdin) into DuckDB by default.

Like every pipeline command, each is its defaults and flags over ``logferry.assemble``: the config's
``[source]`` and ``[sink]`` decide what runs, so ``[sink] type = "elasticsearch"`` makes ``run`` tail into
Elasticsearch.
"""

from __future__ import annotations

import logging
import signal
import socket
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
from logferry.commands.options import (
    announce,
    bind_api,
    input_overrides,
    listen_options,
    paths_argument,
    serve_beside,
)
from logferry.components import day_store
from logferry.config import Settings
from logferry.sample import write_sample

if TYPE_CHECKING:
    from store.day_store import DayStore


def run_pipeline(settings: Settings, *, once: bool, api: socket.socket | None = None) -> tuple[RunStats, Sink]:
    """Assemble and run until done (``once``) or signalled, serving the API on ``api`` (bound) beside it;
    configuration mistakes are usage errors."""
    try:
        pipeline = assemble(settings, once=once)
        if api is not None:
            serve_beside(settings, api, pipeline.stop)
            announce(api, settings.api.backend, err=True)
        return run_until_signal(pipeline, once=once), pipeline.sink
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
@paths_argument
@click.option("-v", "--verbose", is_flag=True, help="Log progress and retries.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[str, ...], verbose: bool) -> None:
    """Read PATH_OR_GLOB… (or [input] paths) to the end once, write to DuckDB, checkpoint, exit.

    Like `filebeat --once`: run again on the same files and nothing new is written. `-` reads standard
    input. The sink is [sink] type of the config (DuckDB unless it says otherwise).
    """
    configure_logging(verbose)
    stats, sink = run_pipeline(settings_for(ctx, **input_overrides(paths)), once=True)
    click.echo(summary(stats, sink), err=True)


@click.command()
@paths_argument
@listen_options
@click.option("--serve/--no-serve", default=True, help="Serve the query API in the same process.")
@click.option("-v", "--verbose", is_flag=True, help="Log progress and retries.")
@click.pass_context
def run(
    ctx: click.Context, paths: tuple[str, ...], host: str | None, port: int | None, serve: bool, verbose: bool
) -> None:
    """Tail PATH_OR_GLOB… (or [input] paths) into DuckDB until SIGINT/SIGTERM, serving the query API.

    The API's port is taken first: when it is busy nothing starts. On SIGINT/SIGTERM the pipeline
    flushes and checkpoints. [source] and [sink] of the config choose other components.
    """
    configure_logging(verbose)
    settings = settings_for(ctx, api={"host": host, "port": port}, **input_overrides(paths))
    api = bind_api(settings.api.host, settings.api.port, instead=", or run without it (--no-serve)") if serve else None
    try:
        stats, sink = run_pipeline(settings, once=False, api=api)
    finally:
        if api is not None:
            api.close()
    click.echo(summary(stats, sink), err=True)


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
        f"  logferry --data-dir {data} serve      # then open http://127.0.0.1:8080/docs\n"
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
