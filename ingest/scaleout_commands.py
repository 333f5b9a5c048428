"""`logferry ship` and `logferry index`: the scale-out path, files → (Kafka →) Elasticsearch.

``ship --to kafka`` runs no processors: it sends raw lines with their source metadata (see
``ingest/kafka_wire.py`` for why) and advances the registry on producer acknowledgement.
``ship --to elasticsearch`` runs the full chain straight into Elasticsearch. ``index`` consumes the
topic as one member of a consumer group, runs the same chain the embedded path runs, and commits
offsets only after the sink accepted the batch. Flags override the config file and ``LOGFERRY_…`` env.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

import click

from core.errors import LogferryError
from core.event import ProcessorFn
from ingest.commands import (
    build_pipeline,
    configure_logging,
    duckdb_sink,
    file_source,
    run_until_signal,
    settings_from,
    summary,
)
from ingest.kafka_sink import KafkaSink
from ingest.kafka_source import KafkaSource
from ingest.kafka_wire import RestoreShipperHost
from ingest.pipeline import Sink, build_processors
from logferry.config import Settings

RESTORE_HOST = "restore_shipper_host"


def _split(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _overrides(
    *,
    kafka: tuple[str, ...] = (),
    topic: str | None = None,
    group: str | None = None,
    exit_when_idle: float | None = None,
    es_urls: tuple[str, ...] = (),
    index_prefix: str | None = None,
) -> dict[str, Any]:
    """Flags as ``load_settings`` overrides: only what was given, so env and file fill in the rest."""
    kafka_section: dict[str, Any] = {}
    if kafka:
        kafka_section["bootstrap_servers"] = _split(kafka)
    if topic:
        kafka_section["topic"] = topic
    if group:
        kafka_section["group"] = group
    if exit_when_idle is not None:
        kafka_section["exit_when_idle"] = exit_when_idle
    es_section: dict[str, Any] = {}
    if es_urls:
        es_section["hosts"] = _split(es_urls)
    if index_prefix:
        es_section["index_prefix"] = index_prefix
    out: dict[str, Any] = {}
    if kafka_section:
        out["kafka"] = kafka_section
    if es_section:
        out["elasticsearch"] = es_section
    return out


def shipper_host(settings: Settings) -> str:
    """The host name the embedded path would record for events from this machine."""
    configured: str | None = getattr(settings.processors, "add_metadata").host_name  # noqa: B009 - dynamic model
    return configured or socket.gethostname()


def elasticsearch_sink(settings: Settings, stop: threading.Event) -> Sink:
    from ingest.elasticsearch_sink import ElasticsearchSink

    sink: Sink = ElasticsearchSink.from_settings(settings, stop=stop)
    return sink


def indexer_processors(settings: Settings) -> list[tuple[str, ProcessorFn]]:
    """The configured chain, plus the step that turns the shipper's host into ``host.name``."""
    chain = build_processors(settings)
    names = [name for name, _ in chain]
    if "add_metadata" in names:
        chain.insert(names.index("add_metadata"), (RESTORE_HOST, RestoreShipperHost()))
    else:
        chain.insert(0, (RESTORE_HOST, RestoreShipperHost(RestoreShipperHost.Config(fill=False))))
    return chain


def _configure_logging(verbose: bool) -> None:
    """Our INFO lines (assignments, commits, retries) without the clients' per-request chatter."""
    configure_logging(verbose)
    for chatty in ("kafka", "elastic_transport"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    # Warns on the first join when the topic is not in the consumer's metadata yet; it rejoins by itself.
    logging.getLogger("kafka.coordinator.assignors").setLevel(logging.ERROR)


def serve_metrics(listen: str | None) -> None:
    """Expose the pipeline counters for Prometheus (and container health checks) on HOST:PORT."""
    if not listen:
        return
    from prometheus_client import start_http_server

    from core import metrics

    host, _, port = listen.rpartition(":")
    if not port.isdigit():
        raise click.BadParameter(f"expected HOST:PORT, got {listen!r}", param_hint="--metrics")
    start_http_server(int(port), addr=host or "127.0.0.1", registry=metrics.REGISTRY)


def raw_line(event: dict[str, Any]) -> bytes:
    """The shipper's wire value: the line exactly as read, no processing."""
    line: bytes = event["@raw"]
    return line


METRICS_HELP = "Serve Prometheus metrics at http://HOST:PORT/metrics (env LOGFERRY_METRICS)."


@click.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--to",
    "target",
    type=click.Choice(["kafka", "elasticsearch"]),
    envvar="LOGFERRY_SHIP_TO",
    required=True,
    help="Where to send: raw lines to Kafka, or processed events straight to Elasticsearch.",
)
@click.option("--kafka", multiple=True, help="Kafka bootstrap HOST:PORT (repeat or comma-separate).")
@click.option("--topic", help="Kafka topic the indexers consume.")
@click.option("--es-url", "es_urls", multiple=True, help="Elasticsearch URL (repeat or comma-separate).")
@click.option("--index-prefix", help="Daily indices are <prefix>-YYYY.MM.DD.")
@click.option("--once", is_flag=True, envvar="LOGFERRY_SHIP_ONCE", help="Read to EOF, wait for acks, exit 0.")
@click.option("--metrics", "metrics_listen", metavar="HOST:PORT", envvar="LOGFERRY_METRICS", help=METRICS_HELP)
@click.option("-v", "--verbose", is_flag=True, help="Log progress, assignments and retries.")
@click.pass_context
def ship(
    ctx: click.Context,
    paths: tuple[str, ...],
    target: str,
    kafka: tuple[str, ...],
    topic: str | None,
    es_urls: tuple[str, ...],
    index_prefix: str | None,
    once: bool,
    metrics_listen: str | None,
    verbose: bool,
) -> None:
    """Follow PATH_OR_GLOB… (or [input] paths) and ship to Kafka or Elasticsearch.

    The registry in --data-dir advances only when the destination acknowledged the lines. Without
    --once it tails until SIGINT/SIGTERM, then flushes and checkpoints.
    """
    _configure_logging(verbose)
    serve_metrics(metrics_listen)
    overrides = _overrides(kafka=kafka, topic=topic, es_urls=es_urls, index_prefix=index_prefix)
    if paths:
        overrides["input"] = {"paths": list(paths)}
    stop = threading.Event()
    try:
        settings = settings_from(ctx, **overrides)
        if not settings.input.paths:
            raise click.UsageError("no inputs: give PATH_OR_GLOB… or set [input] paths / LOGFERRY_INPUT__PATHS")
        source = file_source(settings, once=once)
        if target == "kafka":
            sink: Sink = KafkaSink(settings.kafka, shipper_host(settings))
            pipeline = build_pipeline(settings, source, sink, chain=[], serializer=raw_line, stop=stop)
        else:
            sink = elasticsearch_sink(settings, stop)
            pipeline = build_pipeline(settings, source, sink, stop=stop)
        stats = run_until_signal(pipeline, once=once)
    except LogferryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(summary(stats, getattr(sink, "dead_lettered", 0)), err=True)


@click.command()
@click.option(
    "--from",
    "origin",
    type=click.Choice(["kafka"]),
    default="kafka",
    show_default=True,
    envvar="LOGFERRY_INDEX_FROM",
    help="Where the raw lines come from.",
)
@click.option("--kafka", multiple=True, help="Kafka bootstrap HOST:PORT (repeat or comma-separate).")
@click.option("--topic", help="Kafka topic the shippers write.")
@click.option("--group", help="Consumer group; indexers in one group share the partitions.")
@click.option(
    "--to",
    "target",
    type=click.Choice(["elasticsearch", "duckdb"]),
    default="elasticsearch",
    show_default=True,
    envvar="LOGFERRY_INDEX_TO",
    help="Where processed events go (duckdb: the embedded day files in --data-dir).",
)
@click.option("--es-url", "es_urls", multiple=True, help="Elasticsearch URL (repeat or comma-separate).")
@click.option("--index-prefix", help="Daily indices are <prefix>-YYYY.MM.DD.")
@click.option(
    "--exit-when-idle",
    type=click.FloatRange(min=0, min_open=True),
    help="Exit 0 (after the final flush and commit) when no record arrived for this many seconds.",
)
@click.option("--metrics", "metrics_listen", metavar="HOST:PORT", envvar="LOGFERRY_METRICS", help=METRICS_HELP)
@click.option("-v", "--verbose", is_flag=True, help="Log progress, assignments and retries.")
@click.pass_context
def index(
    ctx: click.Context,
    origin: str,
    kafka: tuple[str, ...],
    topic: str | None,
    group: str | None,
    target: str,
    es_urls: tuple[str, ...],
    index_prefix: str | None,
    exit_when_idle: float | None,
    metrics_listen: str | None,
    verbose: bool,
) -> None:
    """Consume the shippers' topic as one of a group of indexers, process, and index.

    Offsets are committed only after the batch holding the records was accepted; a crash or a
    rebalance re-delivers, and deterministic event ids make the replay an overwrite.
    """
    _configure_logging(verbose)
    serve_metrics(metrics_listen)
    overrides = _overrides(
        kafka=kafka,
        topic=topic,
        group=group,
        exit_when_idle=exit_when_idle,
        es_urls=es_urls,
        index_prefix=index_prefix,
    )
    stop = threading.Event()
    try:
        settings = settings_from(ctx, **overrides)
        sink = elasticsearch_sink(settings, stop) if target == "elasticsearch" else duckdb_sink(settings)
        idle = settings.kafka.exit_when_idle
        source = KafkaSource(settings.kafka, exit_when_idle=idle)
        pipeline = build_pipeline(settings, source, sink, chain=indexer_processors(settings), stop=stop)
        stats = run_until_signal(pipeline, once=idle is not None)
    except LogferryError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(summary(stats, getattr(sink, "dead_lettered", 0)), err=True)
