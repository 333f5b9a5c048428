"""`logferry retention`: drop whole days — daily Elasticsearch indices and embedded DuckDB day files.

Data is partitioned by UTC day on both backends, so retention deletes partitions, never rows. A day
is expired when it is more than ``keep_days`` days before today (UTC; today is day 0): with
``--keep-days 7`` today and the 7 days before it stay. Only names that parse as daily partitions
of the configured prefix are touched — never the dead-letter index, never foreign indices.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import click
from elasticsearch import Elasticsearch

from core.errors import LogferryError
from elastic.connection import elasticsearch_client
from elastic.naming import DailyIndex
from logferry.command_settings import settings_for
from logferry.components import day_store
from store.day_store import DayStore

Backend = Literal["duckdb", "elasticsearch", "both"]
FORCEMERGE_TIMEOUT = 3600.0


def today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def expired(day: dt.date, keep_days: int, today: dt.date) -> bool:
    """Whether a day partition is older than ``keep_days`` days (today is day 0)."""
    return (today - day).days > keep_days


@dataclass
class RetentionReport:
    """What a run deleted (or, dry, would delete) and force-merged."""

    deleted_indices: list[str] = field(default_factory=list)
    deleted_files: list[Path] = field(default_factory=list)
    merged_indices: list[str] = field(default_factory=list)


def daily_indices(client: Elasticsearch, daily: DailyIndex) -> dict[str, dt.date]:
    """Every existing index that is a daily index of this prefix, with its day."""
    names = client.indices.get(index=daily.read_pattern(), expand_wildcards="open,closed", allow_no_indices=True)
    found = {}
    for name in names.body:
        day = daily.day_of(name)
        if day is not None:
            found[name] = day
    return dict(sorted(found.items(), key=lambda kv: kv[1]))


def prune_elasticsearch(
    client: Elasticsearch,
    daily: DailyIndex,
    keep_days: int,
    *,
    today: dt.date,
    dry_run: bool,
    forcemerge: bool,
    report: RetentionReport,
    say: Callable[[str], None],
) -> None:
    """Delete expired daily indices; with ``forcemerge``, merge the kept ones before today to one segment."""
    verb = "would delete" if dry_run else "deleted"
    for name, day in daily_indices(client, daily).items():
        if expired(day, keep_days, today):
            if not dry_run:
                client.indices.delete(index=name)
            report.deleted_indices.append(name)
            say(f"{verb} elasticsearch index {name}")
        elif forcemerge and day < today:
            if not dry_run:
                client.options(request_timeout=FORCEMERGE_TIMEOUT).indices.forcemerge(index=name, max_num_segments=1)
            report.merged_indices.append(name)
            say(f"{'would force-merge' if dry_run else 'force-merged'} elasticsearch index {name}")


def prune_duckdb(
    store: DayStore,
    keep_days: int,
    *,
    today: dt.date,
    dry_run: bool,
    report: RetentionReport,
    say: Callable[[str], None],
) -> None:
    """Delete expired day files and their write-ahead logs."""
    verb = "would delete" if dry_run else "deleted"
    for day in store.days():
        if not expired(day, keep_days, today):
            continue
        path = store.path(day)
        wal = path.with_name(path.name + ".wal")
        if not dry_run:
            path.unlink(missing_ok=True)
            wal.unlink(missing_ok=True)
        report.deleted_files.append(path)
        say(f"{verb} duckdb day file {path}")


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
