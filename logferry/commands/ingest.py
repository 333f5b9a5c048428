"""`logferry ingest`, `run` and `demo`: the embedded path from files (or stdin) into DuckDB by default.

Like every pipeline command, each is its defaults and flags over ``logferry.assemble``: the config's
``[source]`` and ``[sink]`` decide what runs, so ``[sink] type = "elasticsearch"`` makes ``run`` tail into
Elasticsearch.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from core.errors import ConfigError, LogferryError
from core.outcomes import DEAD_LETTERED
from ingest.pipeline import Pipeline, RunStats, Sink
from logferry.alerting import start_alerts
from logferry.assemble import assemble
from logferry.command_settings import settings_for
from logferry.commands.options import (
    announce,
    bind_api,
    finish,
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


def run_pipeline(
    settings: Settings, *, once: bool, api: socket.socket | None = None, alerts: bool = False
) -> tuple[RunStats, Sink]:
    """Assemble and run until done (``once``) or signalled, serving the API on ``api`` (bound) beside it;
    configuration mistakes are usage errors. ``alerts``: evaluate ``[alerts]`` rules beside the
    pipeline (``run``), stopped with it."""
    try:
        pipeline = assemble(settings, once=once)
        evaluator = start_alerts(settings, pipeline.stop) if alerts else None
        try:
            if api is None:
                stats = run_until_signal(pipeline, once=once)
            else:
                serving = serve_beside(settings, api, pipeline.stop)
                announce(api, settings.api.backend, err=True)
                try:
                    stats = run_until_signal(pipeline, once=once)
                finally:
                    finish(serving, pipeline.stop)
        finally:
            if evaluator is not None:
                evaluator.stop()
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
@paths_argument
@click.option("-v", "--verbose", is_flag=True, help="Log progress and retries.")
@click.option(
    "--metrics-file",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="LOGFERRY_METRICS_FILE",
    help="At the end, write the metrics (those made from the events too) to this file in Prometheus' text "
    "format, e.g. for node_exporter's textfile collector (*.prom).",
)
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[str, ...], verbose: bool, metrics_file: Path | None) -> None:
    """Read PATH_OR_GLOB… (or [input] paths) to the end once, write to DuckDB, checkpoint, exit.

    Like `filebeat --once`: run again on the same files and nothing new is written. `-` reads standard
    input. The sink is [sink] type of the config (DuckDB unless it says otherwise).
    """
    configure_logging(verbose)
    stats, sink = run_pipeline(settings_for(ctx, **input_overrides(paths)), once=True)
    click.echo(summary(stats, sink), err=True)
    if metrics_file is not None:
        write_metrics_file(metrics_file)


def write_metrics_file(path: Path) -> None:
    """The process's metrics in Prometheus' text format, replacing ``path`` whole (a collector that reads
    it meanwhile sees the old file or the new one, never half of one)."""
    from prometheus_client import generate_latest

    from core.metrics import REGISTRY

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(generate_latest(REGISTRY))
    os.replace(tmp, path)


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
        stats, sink = run_pipeline(settings, once=False, api=api, alerts=True)
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
    data = settings.data_dir
    report = DemoReport.of(day_store(settings))
    if stats.lines == 0 and report.total:
        click.echo(
            f"\nnothing new to read: {logs} was ingested before (the registry in {data} remembers where each "
            f"file was read to), and its events are stored under {data}/events.\n"
            f"Ask them the questions below, or start afresh: rm -rf {data} && scripts/demo"
        )
    click.echo(report.text())
    if report.first is None:
        return
    since = report.first.strftime("%Y-%m-%dT%H:%M:%SZ")
    click.echo(
        "\nTry next (--from covers the sample; without it a query looks at the last 24 hours):\n"
        f"  logferry --data-dir {data} stats errors --from {since} --interval 1h --by endpoint\n"
        f"  logferry --data-dir {data} search 'level:error' --from {since}\n"
        f"  logferry --data-dir {data} search declined --from {since} --fields @timestamp,service.name,error.type\n"
        f"  logferry --data-dir {data} search 'tags:slow_request AND responseTime:>2000' --from {since}\n"
        f"  logferry --data-dir {data} stats latency --by endpoint --sort p95 --from {since}\n"
        f"  logferry --data-dir {data} stats top user --errors --from {since}\n"
        f"  logferry --data-dir {data} serve      # then open http://127.0.0.1:8080/ (the API: /docs)\n"
        f"  logferry --data-dir {data} ingest {logs}/*.log   # again: nothing new is written"
    )


@dataclass(frozen=True)
class DemoReport:
    """What landed, counted by the query backend itself over the whole sample: the figures are the ones
    ``stats errors --from FIRST`` and ``stats top endpoint --errors --from FIRST`` give."""

    directory: Path
    days: int
    total: int
    errors: int
    slow: int
    endpoints: list[tuple[str, int]]
    first: dt.datetime | None
    last: dt.datetime | None

    @classmethod
    def of(cls, store: DayStore) -> DemoReport:
        from query.backend import DuckDBBackend
        from query.filters import ERROR_EXPR, Filters, build_filters

        days = store.days()
        first, last = _span(store)
        if first is None or last is None:
            return cls(store.directory, len(days), 0, 0, 0, [], None, None)
        end = last + dt.timedelta(milliseconds=1)
        backend = DuckDBBackend(store)
        try:
            everything = Filters(first, end, build_filters(start=first.isoformat(), end=end.isoformat()).expr)
            slow = build_filters(start=first.isoformat(), end=end.isoformat(), tag="slow_request")
            top = backend.top(everything, "endpoint", 5, True)
            return cls(
                store.directory,
                len(days),
                backend.search_events(everything, 1, "desc", None)["total"],
                backend.search_events(Filters(first, end, ERROR_EXPR), 1, "desc", None)["total"],
                backend.search_events(slow, 1, "desc", None)["total"],
                [(str(entry["key"]), entry["count"]) for entry in top["top"]],
                first,
                last,
            )
        finally:
            backend.close()

    def text(self) -> str:
        if self.first is None or self.last is None:
            return "no events stored"
        span = f"{self.first:%Y-%m-%d %H:%M:%S} → {self.last:%Y-%m-%d %H:%M:%S} UTC"
        return "\n".join(
            [
                f"\nstored: {self.total:,} events in {self.days} day file(s) under {self.directory}, {span}",
                f"errors: {self.errors:,} (level error or worse, an error type, or a 5xx: what `stats errors` "
                f"counts)   slow requests: {self.slow:,}",
                "endpoints with most errors:",
                *(f"  {n:>7,}  {endpoint}" for endpoint, n in self.endpoints),
            ]
        )


def _span(store: DayStore) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The first and last event time stored."""
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    for day in store.days():
        con = store.connect(day)
        try:
            low, high = con.execute("SELECT min(ts), max(ts) FROM events").fetchone() or (None, None)
        finally:
            con.close()
        if low is not None:
            first = min(first, low) if first else low
            last = max(last, high) if last else high
    return (_utc(first), _utc(last))


def _utc(t: dt.datetime | None) -> dt.datetime | None:
    return None if t is None else t.astimezone(dt.UTC) if t.tzinfo else t.replace(tzinfo=dt.UTC)
