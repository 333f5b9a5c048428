"""The embedded store's layout: one DuckDB file per UTC day, so dropping a day frees its disk.

The sink writes here and the query backend reads here; both go through ``connect`` so that one
process opening the same file twice gets DuckDB's shared instance, not a configuration clash.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import duckdb

DAY_FILE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})\.duckdb$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id           VARCHAR PRIMARY KEY,
    ts           TIMESTAMPTZ NOT NULL,
    level        VARCHAR,
    tags         VARCHAR[],
    user_id      VARCHAR,
    endpoint     VARCHAR,
    url_path     VARCHAR,
    status       INTEGER,
    status_class VARCHAR,
    duration_ms  DOUBLE,
    service      VARCHAR,
    error_type   VARCHAR,
    message      VARCHAR,
    doc          JSON NOT NULL
)
"""

# Typed columns, each extracted from the shipped ECS document ``j`` (JSON) in SQL.
COLUMNS_FROM_DOC = """
    j->>'$.event.id',
    CAST(j->>'$."@timestamp"' AS TIMESTAMPTZ),
    j->>'$.log.level',
    TRY_CAST(j->'$.tags' AS VARCHAR[]),
    j->>'$.user.id',
    j->>'$.endpoint',
    j->>'$.url.path',
    TRY_CAST(j->>'$.http.response.status_code' AS INTEGER),
    j->>'$.http.response.status_class',
    TRY_CAST(j->>'$.event.duration' AS DOUBLE) / 1e6,
    j->>'$.service.name',
    j->>'$.error.type',
    j->>'$.message',
    j
"""


class DayStore:
    """Paths and connections of the per-day DuckDB files under one directory."""

    def __init__(self, directory: Path, memory_limit: str = "2GB", threads: int = 2) -> None:
        self.directory = directory
        self._config: dict[str, Any] = {"memory_limit": memory_limit, "threads": threads}

    def path(self, day: dt.date) -> Path:
        return self.directory / f"{day.isoformat()}.duckdb"

    def days(self) -> list[dt.date]:
        """Every day that has a file, oldest first."""
        if not self.directory.is_dir():
            return []
        found = []
        for p in self.directory.iterdir():
            m = DAY_FILE.match(p.name)
            if m:
                found.append(dt.date(int(m[1]), int(m[2]), int(m[3])))
        return sorted(found)

    def connect(self, day: dt.date, create: bool = False) -> duckdb.DuckDBPyConnection:
        """A connection to one day's file; ``create`` makes the file and table if missing."""
        path = self.path(day)
        if create:
            self.directory.mkdir(parents=True, exist_ok=True)
        elif not path.exists():
            raise FileNotFoundError(path)
        con = duckdb.connect(str(path), config=dict(self._config))
        if create:
            con.execute(SCHEMA)
        return con
