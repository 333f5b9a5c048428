"""`logferry retention`: the command over ``ingest/retention.py``'s pruning of day files and daily indices.

The settings say where the data is (``[duckdb]``, ``[elasticsearch]``); the flags say how many days to keep.
"""

from __future__ import annotations

from typing import Literal

import click

from core.errors import LogferryError
from elastic.connection import elasticsearch_client
from elastic.naming import DailyIndex
from ingest.retention import RetentionReport, prune_duckdb, prune_elasticsearch, today_utc
from logferry.command_settings import settings_for
from logferry.components import day_store

Backend = Literal["duckdb", "elasticsearch", "both"]
"""Which store the command prunes: the embedded day files, the daily indices, or both."""


@click.command()
@click.option(
    "--keep-days",
    type=click.IntRange(min=0),
    required=True,
    envvar="LOGFERRY_RETENTION__KEEP_DAYS",
    help="Keep today and this many days before it (UTC); older days are deleted.",
)
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@click.option("--forcemerge", is_flag=True, help="Force-merge kept Elasticsearch indices before today to 1 segment.")
@click.option(
    "--backend",
    type=click.Choice(["duckdb", "elasticsearch", "both"]),
    default=None,
    envvar="LOGFERRY_RETENTION__BACKEND",
    help="Default: both when --es-url or --index-prefix is given, else duckdb.",
)
@click.option("--es-url", help="Elasticsearch URL (else [elasticsearch] hosts).")
@click.option("--index-prefix", help="Daily indices are <prefix>-<day> (else [elasticsearch] index_prefix).")
@click.pass_context
def retention(
    ctx: click.Context,
    keep_days: int,
    dry_run: bool,
    forcemerge: bool,
    backend: Backend | None,
    es_url: str | None,
    index_prefix: str | None,
) -> None:
    """Delete daily indices and embedded day files older than --keep-days (listing them with --dry-run)."""
    if backend is None:
        backend = "both" if es_url or index_prefix else "duckdb"
    es_overrides = {k: v for k, v in (("hosts", [es_url] if es_url else None), ("index_prefix", index_prefix)) if v}
    report = RetentionReport()
    today = today_utc()
    try:
        settings = settings_for(ctx, elasticsearch=es_overrides or None)
        if backend in ("duckdb", "both"):
            prune_duckdb(day_store(settings), keep_days, today=today, dry_run=dry_run, report=report, say=click.echo)
        if backend in ("elasticsearch", "both"):
            config = settings.elasticsearch
            daily = DailyIndex(config.index_prefix, config.index_date_pattern)
            client = elasticsearch_client(config, retry_on_timeout=True)
            try:
                prune_elasticsearch(
                    client,
                    daily,
                    keep_days,
                    today=today,
                    dry_run=dry_run,
                    forcemerge=forcemerge,
                    report=report,
                    say=click.echo,
                )
            finally:
                client.close()
        elif forcemerge:
            click.echo("--forcemerge applies to Elasticsearch only; nothing to merge in DuckDB", err=True)
    except LogferryError as exc:
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:
        if type(exc).__module__.startswith(("elasticsearch", "elastic_transport")):
            raise click.ClickException(f"Elasticsearch: {exc}") from exc
        raise
    n_deleted = len(report.deleted_indices) + len(report.deleted_files)
    click.echo(
        f"{'dry run: ' if dry_run else ''}{n_deleted} partition(s) {'to delete' if dry_run else 'deleted'} "
        f"(keep {keep_days} day(s) before {today.isoformat()} UTC)"
        + (f", {len(report.merged_indices)} index(es) force-merged" if forcemerge and not dry_run else ""),
        err=True,
    )
