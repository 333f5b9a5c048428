"""The ``events`` table of a day file, declared once: each typed column, the ECS field it is read from, its type.

The DDL, the reader that fills the columns from the shipped documents (``store.columns``, compiled
in ``native/src/columns.rs``), the migration of older day files and the query side's column
mapping (``query/fields.py``) all derive from ``COLUMNS``.

Why these columns: what queries filter, group and sort on is read from a typed column, never from
the JSON document (``doc``, kept whole for the answers and for any other field). ``batch`` is not
an ECS field: it is the write that stored the row (see ``ingest.duckdb_sink``), what makes a replay
after a crash idempotent without a unique index.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

LAYOUT = 2
"""The table's layout; 1 was ``id VARCHAR PRIMARY KEY`` and ``doc JSON`` with 13 typed columns."""


@dataclass(frozen=True)
class Column:
    """A typed column: its name, the ECS field it holds, its DuckDB type and how the reader reads it.

    ``kind`` is what ``native/src/columns.rs`` makes of the document's value: ``text`` (the text of
    a string, the JSON text of any other value), ``text_list`` (an array's items as texts),
    ``timestamp``, ``int32``, ``int64``, ``float64`` (divided by ``divisor``).
    """

    name: str
    field: str
    sql_type: str
    kind: str = "text"
    divisor: float = 1.0

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.kind]


ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.large_string(),
    "text_list": pa.list_(pa.large_string()),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "float64": pa.float64(),
}

NS_PER_MS = 1_000_000.0

COLUMNS: tuple[Column, ...] = (
    Column("id", "event.id", "VARCHAR"),
    Column("ts", "@timestamp", "TIMESTAMPTZ NOT NULL", "timestamp"),
    Column("level", "log.level", "VARCHAR"),
    Column("tags", "tags", "VARCHAR[]", "text_list"),
    Column("user_id", "user.id", "VARCHAR"),
    Column("endpoint", "endpoint", "VARCHAR"),
    Column("url_path", "url.path", "VARCHAR"),
    Column("status", "http.response.status_code", "INTEGER", "int32"),
    Column("status_class", "http.response.status_class", "VARCHAR"),
    Column("duration_ms", "event.duration", "DOUBLE", "float64", NS_PER_MS),
    Column("service", "service.name", "VARCHAR"),
    Column("error_type", "error.type", "VARCHAR"),
    Column("message", "message", "VARCHAR"),
    Column("host_name", "host.name", "VARCHAR"),
    Column("file_path", "log.file.path", "VARCHAR"),
    Column("log_offset", "log.offset", "BIGINT", "int64"),
    Column("error_message", "error.message", "VARCHAR"),
    Column("error_grouping_key", "error.grouping_key", "VARCHAR"),
    Column("trace_id", "trace.id", "VARCHAR"),
    Column("http_method", "http.request.method", "VARCHAR"),
)
BY_FIELD: dict[str, Column] = {c.field: c for c in COLUMNS}
TIMESTAMP = "@timestamp"

DOC_COLUMN = "doc"
SOURCE_ID_COLUMN = "source_id"
SOURCE_END_COLUMN = "source_end"
BATCH_COLUMN = "batch"

# The document compresses to about two thirds of DuckDB's default (FSST/dictionary) with zstd, at
# less CPU per row in the checkpoint (bench.duckdb_insert prints both).
EVENTS_DDL = (
    "CREATE TABLE IF NOT EXISTS events (\n    "
    + ",\n    ".join(f"{c.name} {c.sql_type}" for c in COLUMNS)
    + f",\n    {DOC_COLUMN} VARCHAR NOT NULL USING COMPRESSION zstd,"
    + f"\n    {SOURCE_ID_COLUMN} VARCHAR,\n    {SOURCE_END_COLUMN} BIGINT,\n    {BATCH_COLUMN} BIGINT NOT NULL\n)"
)
"""``source_id`` and ``source_end``: the source (a file generation's id, a Kafka partition) and the
offset reached by the block of lines a row was read in; NULL until known (see ``ingest.duckdb_sink``)."""

BATCHES_DDL = """
CREATE TABLE IF NOT EXISTS batches (
    batch     BIGINT NOT NULL,
    positions VARCHAR NOT NULL
)
"""
"""What each write of the current and last sessions acknowledges (see ``ingest.duckdb_sink``)."""


def doc_path(field: str) -> str:
    """The JSON path of an ECS field in the stored document (``$."a"."b"``)."""
    return "$." + ".".join(f'"{p}"' for p in field.split("."))


def from_doc_sql(column: Column, doc: str = DOC_COLUMN) -> str:
    """SQL reading ``column`` from the document text ``doc`` as the reader does (older day files)."""
    text = f"json_extract_string({doc}, '{doc_path(column.field)}')"
    if column.kind == "text":
        return text
    if column.kind == "text_list":
        return f"TRY_CAST(json_extract({doc}, '{doc_path(column.field)}') AS VARCHAR[])"
    if column.kind == "timestamp":
        return f"CAST({text} AS TIMESTAMPTZ)"
    cast = {"int32": "INTEGER", "int64": "BIGINT", "float64": "DOUBLE"}[column.kind]
    if column.divisor != 1.0:
        return f"TRY_CAST({text} AS {cast}) / {column.divisor!r}"
    return f"TRY_CAST({text} AS {cast})"


def layout_of(con: object, table: str = "events") -> int | None:
    """The layout of ``table`` in a day file (None: no such table); ``con`` is a DuckDB connection."""
    rows = con.execute(  # type: ignore[attr-defined]
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = 'main'", [table]
    ).fetchall()
    if not rows:
        return None
    return LAYOUT if BATCH_COLUMN in {name for (name,) in rows} else 1


LAYOUT1_COLUMNS = frozenset(
    {"id", "ts", "level", "tags", "user_id", "endpoint", "url_path", "status", "status_class"}
    | {"duration_ms", "service", "error_type", "message"}
)


def _layout1_select(database: str) -> str:
    """The current layout's columns over a layout-1 ``events`` table: the columns it had, the others
    read from the document by SQL that means what the reader means, ``batch`` 0 (never a replay's)."""
    select = ", ".join(c.name if c.name in LAYOUT1_COLUMNS else f"{from_doc_sql(c)} AS {c.name}" for c in COLUMNS)
    return (
        f"SELECT {select}, CAST({DOC_COLUMN} AS VARCHAR) AS {DOC_COLUMN}, CAST(NULL AS VARCHAR) AS {SOURCE_ID_COLUMN}, "
        f"CAST(NULL AS BIGINT) AS {SOURCE_END_COLUMN}, CAST(0 AS BIGINT) AS {BATCH_COLUMN} "
        f'FROM "{database}".main.events'
    )


def migrate_sql(database: str) -> list[str]:
    """Statements that rewrite a layout-1 ``events`` table of ``database`` in the current layout, rows in order."""
    return [
        EVENTS_DDL.replace("IF NOT EXISTS events", "events_layout2"),
        f"INSERT INTO events_layout2 {_layout1_select(database)} ORDER BY rowid",
        "DROP TABLE events",
        "ALTER TABLE events_layout2 RENAME TO events",
    ]


def compat_view_sql(database: str) -> str:
    """A temporary view ``events`` of the current layout over a layout-1 table (read-only readers)."""
    return f"CREATE OR REPLACE TEMP VIEW events AS {_layout1_select(database)}"
