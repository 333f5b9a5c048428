"""`logferry ingest`, `run` and `demo`: the embedded path from files (or stdin) into DuckDB."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import click

from core.errors import LogferryError
from core.event import ProcessorFn
from ingest.batch import Batcher
from ingest.deadletter import DeadLetterFile
from ingest.document import serialize
from ingest.duckdb_sink import DuckDBSink, remove_spool
from ingest.duckdb_store import DayStore
from ingest.file_source import FileSource, StdinSource
from ingest.pipeline import Pipeline, RunStats, Sink, Source, build_processors, terminal_progress
from ingest.registry import Registry
from logferry.config import Settings, load_settings
from logferry.sample import write_sample


def settings_from(ctx: click.Context, **overrides: Any) -> Settings:
    """Settings from the group's ``--config``/``--data-dir`` plus this command's flags."""
    obj = ctx.find_root().obj or {}
    return load_settings(obj.get("config_file"), data_dir=obj.get("data_dir"), **overrides)


def day_store(settings: Settings) -> DayStore:
    return DayStore(settings.resolve(settings.duckdb.directory), settings.duckdb.memory_limit, settings.duckdb.threads)


def duckdb_sink(settings: Settings) -> DuckDBSink:
    """The sink, holding the store's writer lock (``StoreBusy`` when another process writes)."""
    sink = DuckDBSink(day_store(settings), DeadLetterFile(settings.resolve(settings.duckdb.deadletter_file)))
    remove_spool(settings.data_dir)
    return sink


def file_source(settings: Settings, *, once: bool) -> FileSource:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return FileSource(settings.input, Registry(settings.data_dir / "registry.json"), once=once)


def build_pipeline(
    settings: Settings,
    source: Source,
    sink: Sink,
    *,
    chain: list[tuple[str, ProcessorFn]] | None = None,
    serializer: Callable[[dict[str, Any]], bytes] = serialize,
    stop: threading.Event | None = None,
) -> Pipeline:
    """The configured chain (or ``chain``) between ``source`` and ``sink``; progress on a terminal only.

    ``stop`` is shared with a sink that waits on it (the Elasticsearch sink's back-off), so one signal
    ends both.
    """
    progress = terminal_progress if sys.stderr.isatty() else None
    processors = build_processors(settings) if chain is None else chain
    batcher = Batcher(settings.batch, serializer=serializer)
    return Pipeline(source, processors, batcher, sink, progress=progress, stop=stop)


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


def summary(stats: RunStats, dead_lettered: int) -> str:
    elapsed = time.monotonic() - stats.started
    return (
        f"{stats.lines:,} lines read, {stats.written:,} events written, {stats.dropped:,} dropped, "
        f"{dead_lettered:,} dead-lettered in {elapsed:.1f}s ({stats.lines / max(elapsed, 1e-9):,.0f} lines/s)"
    )


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-v", "--verbose", is_flag=True, help="Log progress and retries.")
@click.pass_context
def ingest(ctx: click.Context, paths: tuple[str, ...], verbose: bool) -> None:
    """Read PATH_OR_GLOB… to the end once, write to DuckDB, checkpoint, exit (like `filebeat --once`).

    Run again on the same files and nothing new is written. `-` reads standard input.
    """
    configure_logging(verbose)
    try:
        if paths == ("-",):
            settings = settings_from(ctx)
            sink = duckdb_sink(settings)
            source: Source = StdinSource(sys.stdin.buffer, settings.input.max_line_bytes)
        else:
            settings = settings_from(ctx, input={"paths": list(paths)})
            sink = duckdb_sink(settings)
            source = file_source(settings, once=True)
        stats = run_until_signal(build_pipeline(settings, source, sink), once=True)
    except LogferryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(summary(stats, sink.dead_lettered), err=True)


@click.command()
@click.option("-v", "--verbose", is_flag=True, help="Log progress and retries.")
@click.option("--serve/--no-serve", default=True, help="Serve the query API in the same process.")
@click.pass_context
def run(ctx: click.Context, verbose: bool, serve: bool) -> None:
    """Tail the configured inputs continuously into DuckDB until SIGINT/SIGTERM (then flush, checkpoint)."""
    configure_logging(verbose)
    try:
        settings = settings_from(ctx)
        if not settings.input.paths:
            raise click.UsageError("no inputs: set [input] paths in the config or LOGFERRY_INPUT__PATHS")
        sink = duckdb_sink(settings)
        pipeline = build_pipeline(settings, file_source(settings, once=False), sink)
        if serve:
            start_api_thread(settings, pipeline.stop)
        stats = run_until_signal(pipeline, once=False)
    except LogferryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(summary(stats, sink.dead_lettered), err=True)


def start_api_thread(settings: Settings, stop: threading.Event) -> None:
    """Serve the query API beside the pipeline; it takes turns with the writer (``StoreGate``)."""
    import uvicorn

    from query.app import create_app

    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host=settings.api.host, port=settings.api.port, log_level="warning")
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
    settings = settings_from(ctx)
    logs = settings.data_dir / "demo-logs"
    if not logs.is_dir():
        click.echo(f"writing {lines:,} sample lines to {logs}/ …", err=True)
        write_sample(logs, lines)
    settings = settings_from(ctx, input={"paths": [str(logs / "*.log"), str(logs / "*.log.1")]})
    sink = duckdb_sink(settings)
    stats = run_until_signal(build_pipeline(settings, file_source(settings, once=True), sink), once=True)
    click.echo(summary(stats, sink.dead_lettered))
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
