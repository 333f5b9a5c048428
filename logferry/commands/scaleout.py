"""`logferry ship` and `logferry index`: the scale-out path, files → (Kafka →) Elasticsearch.

``ship --to kafka`` runs no processors: it sends raw lines with their source metadata (see
``ingest/kafka_wire.py`` for why) and advances the registry on producer acknowledgement.
``ship --to elasticsearch`` runs the full chain straight into Elasticsearch. ``index`` consumes the
topic as one member of a consumer group, runs the same chain the embedded path runs, and commits
offsets only after the sink accepted the batch. Flags override the config file and ``LOGFERRY_…`` env.
"""

from __future__ import annotations

import logging
from typing import Any

import click
from click.core import ParameterSource

from logferry.command_settings import settings_for
from logferry.commands.ingest import configure_logging, run_pipeline, summary
from logferry.commands.options import input_overrides, paths_argument


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
    """Flags as settings overrides; one not given is ``None`` and leaves env and file to fill in."""
    return {
        "kafka": {
            "bootstrap_servers": _split(kafka) or None,
            "topic": topic or None,
            "group": group or None,
            "exit_when_idle": exit_when_idle,
        },
        "elasticsearch": {"hosts": _split(es_urls) or None, "index_prefix": index_prefix or None},
    }


def _chosen(ctx: click.Context, param: str, value: str) -> dict[str, str] | None:
    """A component ``type`` given on the command line or in its env var; ``None`` when it is the default."""
    if ctx.get_parameter_source(param) in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP):
        return None
    return {"type": value}


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


METRICS_HELP = "Serve Prometheus metrics at http://HOST:PORT/metrics (env LOGFERRY_METRICS)."


@click.command()
@paths_argument
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
    overrides = {
        **_overrides(kafka=kafka, topic=topic, es_urls=es_urls, index_prefix=index_prefix),
        **input_overrides(paths),
        "sink": {"type": target},
    }
    settings = settings_for(ctx, defaults={"source": {"type": "file"}}, **overrides)
    stats, sink = run_pipeline(settings, once=once)
    click.echo(summary(stats, sink), err=True)


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
    settings = settings_for(
        ctx,
        defaults={"source": {"type": origin}, "sink": {"type": target}},
        source=_chosen(ctx, "origin", origin),
        sink=_chosen(ctx, "target", target),
        **_overrides(
            kafka=kafka,
            topic=topic,
            group=group,
            exit_when_idle=exit_when_idle,
            es_urls=es_urls,
            index_prefix=index_prefix,
        ),
    )
    stats, sink = run_pipeline(settings, once=settings.kafka.exit_when_idle is not None)
    click.echo(summary(stats, sink), err=True)
