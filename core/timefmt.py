"""The shipped time format and the UTC day a document is stored under, shared by sinks and the query side."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache


def iso_ms(t: dt.datetime) -> str:
    """The shipped timestamp format: UTC with milliseconds and ``Z`` (a four-digit year, also before 1000)."""
    return t.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_day(timestamp: object) -> dt.date | None:
    """The UTC day a document is stored under (its ``@timestamp``); None when it has none usable.

    Both sinks partition by it (DuckDB day files, Elasticsearch daily indices), so they agree on
    which day, and on which documents have no day and are dead-lettered.
    """
    if not isinstance(timestamp, str):
        return None
    return _day(timestamp[:10])


@lru_cache(maxsize=1024)
def _day(prefix: str) -> dt.date | None:
    if len(prefix) != 10 or prefix[4] != "-":
        return None
    try:
        return dt.date.fromisoformat(prefix)
    except ValueError:
        return None
