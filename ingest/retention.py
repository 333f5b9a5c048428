"""Retention: drop whole days — daily Elasticsearch indices and embedded DuckDB day files.

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

from elasticsearch import Elasticsearch

from elastic.naming import DailyIndex
from store.day_store import DayStore

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
