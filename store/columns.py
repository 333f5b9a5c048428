"""A batch of shipped documents as one Arrow table of the ``events`` columns, for DuckDB to append.

The compiled reader (``logferry_native.DocColumns``, ``native/src/columns.rs``) reads each document
once, without the GIL and without a Python object per value, into Arrow buffers wrapped here without a
copy. Without the compiled module, and for the few documents it does not take (a time in a form it
does not read, a document that is not one JSON object), ``read_event`` reads the same values in Python.
Both follow ``store.schema.COLUMNS``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa

from core.timefmt import utc_day
from store.schema import BATCH_COLUMN, COLUMNS, DOC_COLUMN, SOURCE_END_COLUMN, SOURCE_ID_COLUMN, TIMESTAMP, Column

try:
    from logferry_native import DocColumns as _NativeColumns
except ImportError:  # pragma: no cover - exercised where the extension is not built
    _NativeColumns = None

EPOCH_DAY = dt.date(1970, 1, 1).toordinal()
UTC = dt.UTC
NOT_AN_OBJECT = "the document is not one JSON object"
NO_TIME = "@timestamp is not a time the store reads"

TABLE_SCHEMA = pa.schema(
    [pa.field(c.name, c.arrow_type) for c in COLUMNS]
    + [
        pa.field(DOC_COLUMN, pa.large_string()),
        pa.field(SOURCE_ID_COLUMN, pa.large_string()),
        pa.field(SOURCE_END_COLUMN, pa.int64()),
        pa.field(BATCH_COLUMN, pa.int64()),
    ]
)
Segments = list[tuple[int, str, int]]
"""Where each run of rows was read: ``(end row, source id, source offset reached)``, ascending; rows
past the last end have no known source yet."""


@dataclass
class Rows:
    """A batch read: the rows that have a day, by day, and those that could not be stored, with why.

    ``days`` maps each day to its rows as an Arrow table of ``TABLE_SCHEMA`` (``batch`` is filled by
    the writer); ``no_day`` and ``refused`` hold the indexes of the documents without a usable
    ``@timestamp`` and of those the store cannot take (with the reason), in batch order.
    """

    days: dict[dt.date, pa.Table] = field(default_factory=dict)
    no_day: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


class DocReader:
    """Reads batches of documents into ``Rows``; compiled when ``logferry_native`` is installed."""

    def __init__(self, compiled: bool = True) -> None:
        self.native = None
        if compiled and _NativeColumns is not None:
            spec = [(c.field, c.kind, c.divisor) for c in COLUMNS]
            self.native = _NativeColumns(spec, TIMESTAMP)

    def read(self, docs: list[bytes], labels: tuple[int, int, int], segments: Segments | None = None) -> Rows:
        """``docs`` as ``Rows``; ``labels`` is ``(first, second, cut)``: rows before index ``cut``
        get ``batch`` = ``first``, the others ``second``; ``segments`` fill ``source_id`` and
        ``source_end`` (see ``ingest.duckdb_sink``)."""
        segments = segments or []
        if not docs:
            return Rows()
        if self.native is None:
            return _from_python(docs, range(len(docs)), labels, segments)
        columns, (doc_offsets, doc_data), runs, failed = self.native.build(docs)
        count = len(docs)
        arrays = [_array(c, count, buffers) for c, buffers in zip(COLUMNS, columns, strict=True)]
        arrays.append(
            pa.Array.from_buffers(
                pa.large_string(), count, [None, pa.py_buffer(doc_offsets), pa.py_buffer(doc_data)], null_count=0
            )
        )
        arrays += _sources(count, segments)
        arrays.append(_labels(count, labels))
        table = pa.Table.from_arrays(arrays, schema=TABLE_SCHEMA)
        rows = Rows()
        parts: dict[dt.date, list[pa.Table]] = {}
        python_rows: list[int] = []
        for day_number, start, end in runs:
            if day_number is None:
                python_rows.extend(range(start, end))
            else:
                day = dt.date.fromordinal(EPOCH_DAY + day_number)
                parts.setdefault(day, []).append(table.slice(start, end - start))
        if python_rows:
            slow = _from_python(docs, python_rows, labels, segments)
            for day, part in slow.days.items():
                parts.setdefault(day, []).append(part)
            rows.no_day, rows.refused = slow.no_day, slow.refused
        del failed  # every failed row is in a run without a day, read again above
        rows.days = {day: p[0] if len(p) == 1 else pa.concat_tables(p) for day, p in parts.items()}
        return rows


def _array(column: Column, count: int, buffers: tuple[Any, ...]) -> pa.Array:
    """An Arrow array of ``column`` over the compiled reader's buffers (not copied)."""
    nulls, validity, *rest = buffers
    bitmap = pa.py_buffer(validity) if nulls else None
    if column.kind == "text_list":
        offsets, item_nulls, item_validity, item_offsets, data = rest
        items = pa.Array.from_buffers(
            pa.large_string(),
            (len(item_offsets) // 8) - 1,
            [pa.py_buffer(item_validity) if item_nulls else None, pa.py_buffer(item_offsets), pa.py_buffer(data)],
            null_count=item_nulls,
        )
        return pa.ListArray.from_buffers(
            column.arrow_type, count, [bitmap, pa.py_buffer(offsets)], null_count=nulls, children=[items]
        )
    return pa.Array.from_buffers(column.arrow_type, count, [bitmap, *map(pa.py_buffer, rest)], null_count=nulls)


def _labels(count: int, labels: tuple[int, int, int]) -> pa.Array:
    first, second, cut = labels
    cut = max(0, min(cut, count))
    if cut == count:
        return pa.repeat(pa.scalar(first, pa.int64()), count)
    return pa.concat_arrays(
        [pa.repeat(pa.scalar(first, pa.int64()), cut), pa.repeat(pa.scalar(second, pa.int64()), count - cut)]
    )


def _sources(count: int, segments: Segments) -> list[pa.Array]:
    """The ``source_id`` and ``source_end`` arrays of ``count`` rows read in ``segments``."""
    ids: list[pa.Array] = []
    ends: list[pa.Array] = []
    start = 0
    for stop, source, reached in segments:
        stop = min(stop, count)
        if stop > start:
            ids.append(pa.repeat(pa.scalar(source, pa.large_string()), stop - start))
            ends.append(pa.repeat(pa.scalar(reached, pa.int64()), stop - start))
            start = stop
    if start < count:
        ids.append(pa.nulls(count - start, pa.large_string()))
        ends.append(pa.nulls(count - start, pa.int64()))
    if len(ids) == 1:
        return [ids[0], ends[0]]
    return [pa.concat_arrays(ids), pa.concat_arrays(ends)]


def _source_of(index: int, segments: Segments) -> tuple[str | None, int | None]:
    for stop, source, reached in segments:
        if index < stop:
            return source, reached
    return None, None


def _from_python(docs: list[bytes], indexes: Any, labels: tuple[int, int, int], segments: Segments) -> Rows:
    """The Python reader over ``docs[i]`` for ``i`` in ``indexes``: what the compiled one reads."""
    first, second, cut = labels
    rows = Rows()
    by_day: dict[dt.date, list[dict[str, Any]]] = {}
    for i in indexes:
        doc = docs[i]
        try:
            event = orjson.loads(doc)
        except orjson.JSONDecodeError:
            rows.refused.append((i, "the document is not JSON (or not UTF-8)"))
            continue
        if type(event) is not dict:
            rows.refused.append((i, NOT_AN_OBJECT))
            continue
        day = utc_day(_at(event, TIMESTAMP))
        if day is None:
            rows.no_day.append(i)
            continue
        values = read_event(event)
        if isinstance(values, str):
            rows.refused.append((i, values))
            continue
        values[DOC_COLUMN] = doc.decode("utf-8", "replace")
        values[SOURCE_ID_COLUMN], values[SOURCE_END_COLUMN] = _source_of(i, segments)
        values[BATCH_COLUMN] = first if i < cut else second
        by_day.setdefault(day, []).append(values)
    rows.days = {day: pa.Table.from_pylist(items, schema=TABLE_SCHEMA) for day, items in by_day.items()}
    return rows


def read_event(event: dict[str, Any]) -> dict[str, Any] | str:
    """The columns of one parsed document as ``{name: value}``, or why the store cannot take it."""
    values: dict[str, Any] = {}
    for column in COLUMNS:
        value = _at(event, column.field)
        if column.kind == "timestamp":
            if value is None:
                values[column.name] = None
                continue
            when = _time(value)
            if when is None:
                return f"{NO_TIME}: {orjson.dumps(value).decode()[:80]}"
            values[column.name] = when
        else:
            values[column.name] = _convert(column, value)
    return values


_MISSING = object()


def _at(event: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted path of nested objects (None when absent); the first of duplicate keys
    cannot occur here: a parsed document has each key once."""
    value: Any = event
    for part in dotted.split("."):
        if type(value) is not dict:
            return None
        value = value.get(part, _MISSING)
        if value is _MISSING:
            return None
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is str:
        return value
    return orjson.dumps(value).decode()


def _number(value: Any) -> float | int | None:
    if type(value) is int:
        return value
    if type(value) is float:
        return value
    if type(value) is str:
        text = value.strip()
        try:
            return int(text) if text.lstrip("+-").isdigit() else float(text)
        except ValueError:
            return None
    return None


def _convert(column: Column, value: Any) -> Any:
    kind = column.kind
    if kind == "text":
        return _text(value)
    if kind == "text_list":
        return [_text(item) for item in value] if type(value) is list else None
    number = _number(value)
    if number is None:
        return None
    if kind == "float64":
        return float(number) / column.divisor
    if type(number) is float:
        if not math.isfinite(number):
            return None
        number = int(math.copysign(math.floor(abs(number) + 0.5), number))  # half away from zero, as Rust
    limit = 2**31 if kind == "int32" else 2**63
    return number if -limit <= number < limit else None


def _time(value: Any) -> dt.datetime | None:
    if type(value) is not str:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def append_documents(con: Any, docs: list[bytes], reader: DocReader | None = None) -> int:
    """Append shipped documents to an open day file's ``events`` (fixtures and benchmarks; the
    sink writes batches). Documents without a day or that the store refuses are skipped; returns
    how many were appended."""
    rows = (reader or DocReader()).read(docs, (0, 0, len(docs)))
    appended = 0
    for table in rows.days.values():
        con.from_arrow(table).insert_into("events")
        appended += table.num_rows
    return appended
