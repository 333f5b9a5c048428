"""The embedded backend: SQL over the per-day DuckDB files that the time range touches.

Each day is queried through its own read-only connection and the partial results are merged in
Python — they are counts, which add up. The connections stay open between queries (opening a day
file costs about 100 ms) while no writer waits; when ``ingest``/``run`` wants to write, the
``StoreGate`` lets the in-flight queries finish, closes them and reopens after the writer's turn,
so queries and ingest run side by side on one data dir without DuckDB's lock error. Turns are
per day file: queries of past days never wait for the writer of today.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import duckdb
import orjson

from core.errors import QueryError
from core.schema import SLOW_TAG
from query.expr import Exists, Expr, Field, and_, or_
from query.fields import ECS_FIELDS, KEY_FIELDS
from query.filters import ERROR_EXPR, Filters
from query.groups import GROUPED, Details, FileGroupStates, GroupStates, InRange
from query.results import (
    LEVEL_SERIES,
    BackendUnavailable,
    QueryTimeout,
    assemble_buckets,
    bucket_starts,
    context_answer,
    decode_cursor,
    encode_cursor,
    latency_answer,
    rank,
)
from query.sql import compile_sql
from query.timerange import days_within, interval_name
from store.day_store import DayStore, StoreBusy, StoreGate, local_write_cursor
from store.schema import BY_FIELD, compat_view_sql, layout_of

UTC = dt.UTC
RESULTS_KEPT = 512  # per-day query results remembered (see DuckDBBackend._day_rows)
RESULT_ROWS_KEPT = 20_000  # larger results (latency's per-value rows) are not kept
RESULT_ROWS_BUDGET = 500_000  # rows over all remembered results
MANY_VALUED = frozenset({"user"})  # errors over time by these keys ranks them first (two scans)
FOREIGN_LOCK_WAIT = 2.0  # s; a file locked outside the StoreGate (not logferry) is retried this long
KEY_SQL = {key: BY_FIELD[field].name for key, field in KEY_FIELDS.items()}
GROUP_KEY = ECS_FIELDS["error.grouping_key"]
STATES_FILE = "error-groups.json"


def _integral(param: Any) -> Any:
    """``500.0`` as ``500``: an integer column compared with a DOUBLE is cast row by row (the
    status filter of every error query cost about a third more); the comparison means the same."""
    if type(param) is float and param.is_integer() and abs(param) < 2**53:
        return int(param)
    return param


class DuckDBBackend:
    """Answers the API from ``<data_dir>/events/YYYY-MM-DD.duckdb``."""

    name = "duckdb"

    def __init__(self, store: DayStore, timeout: float = 10.0, open_days: int = 8) -> None:
        self.store = store
        self.timeout = timeout
        self.open_days = open_days
        self._open: OrderedDict[dt.date, duckdb.DuckDBPyConnection] = OrderedDict()
        self._has_table: set[dt.date] = set()
        self._older_layout: dict[dt.date, str] = {}
        """Days whose file has an older layout (no writer rewrote it yet), by database name: each
        query's cursor reads them through a view of the current layout (``compat_view_sql``)."""
        self._lock = threading.Lock()
        self._gates: dict[dt.date, StoreGate] = {}
        self._results: OrderedDict[tuple[dt.date, str, str], list[tuple[Any, ...]]] = OrderedDict()
        self._kept_rows = 0
        self.states: GroupStates = FileGroupStates(store.directory / STATES_FILE)
        """Error group states, kept in the store's directory beside the day files."""

    # -- plumbing -------------------------------------------------------------------------------

    def _days(self, f: Filters) -> list[dt.date]:
        return days_within(f.start, f.end, self.store.days())

    def _day_connection(self, day: dt.date, deadline: float) -> duckdb.DuckDBPyConnection | None:
        """The kept-open read-only connection of a day (``None`` when it has no events table yet).

        Opening a DuckDB file costs tens of milliseconds and a cold cache; keeping a few days open
        makes a query cost only its scan. Least recently used days are closed. A file locked by a
        process outside the gate (an older logferry, the duckdb shell) is retried until ``deadline``.
        """
        with self._lock:
            con = self._open.pop(day, None)
            if con is None:
                con = self._open_day(day, deadline)
                if con is None:
                    return None
                self._close_least_recent()
            self._open[day] = con
            if day not in self._has_table:
                layout = layout_of(con)
                if layout is None:
                    return None
                if layout == 1:
                    database = con.execute("SELECT current_database()").fetchone()
                    self._older_layout[day] = database[0] if database else day.isoformat()
                self._has_table.add(day)
            return con

    def _close_least_recent(self) -> None:
        """Keep at most ``open_days`` open, closing least recent days that no query is running on.

        Closing a connection ends the cursors made from it, so a day in use stays open (for a
        moment over the limit). A query enters the day's gate before it takes ``self._lock`` (held
        here), so a day whose gate is not in use cannot start a query until this returns.
        """
        for day in list(self._open):
            if len(self._open) < self.open_days:
                return
            gate = self._gates.get(day)
            if gate is None or not gate.in_use():
                self._open.pop(day).close()

    def _open_day(self, day: dt.date, deadline: float) -> duckdb.DuckDBPyConnection | None:
        deadline = min(deadline, time.monotonic() + FOREIGN_LOCK_WAIT)
        pause = 0.01
        while True:
            try:
                return self.store.connect(day)
            except FileNotFoundError:
                return None
            except duckdb.IOException as exc:
                if time.monotonic() + pause > deadline:
                    raise BackendUnavailable(
                        f"cannot open {self.store.path(day)}: {' '.join(str(exc).split())}. DuckDB allows one "
                        "writing process per file, and a program outside logferry's turn-taking holds it: "
                        "stop it or try again."
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.2)

    @contextmanager
    def _connect(self, day: dt.date) -> Iterator[tuple[duckdb.DuckDBPyConnection | None, bool]]:
        """A cursor on one day's file for one query, interrupted after the timeout, and whether
        its results may be remembered.

        The gate is held for the query only: a waiting writer gets its turn between two queries.
        When this process writes the day (``logferry run``), the query reads through the writer's
        connection instead; those results change with every batch, so they are not remembered.
        """
        deadline = time.monotonic() + self.timeout
        with local_write_cursor(self.store.path(day)) as shared:
            if shared is not None:
                with self._interrupt_after(shared, deadline):
                    yield shared, False
                return
        try:
            with self._gate(day).held(self.timeout):
                base = self._day_connection(day, deadline)
                if base is None:
                    yield None, False
                    return
                with self._lock:
                    con = base.cursor()
                    older = self._older_layout.get(day)
                try:
                    if older is not None:
                        con.execute(compat_view_sql(older))
                    with self._interrupt_after(con, deadline):
                        yield con, True
                finally:
                    con.close()
        except StoreBusy as exc:
            raise BackendUnavailable(str(exc)) from None

    @contextmanager
    def _interrupt_after(self, con: duckdb.DuckDBPyConnection, deadline: float) -> Iterator[None]:
        timer = threading.Timer(max(0.0, deadline - time.monotonic()), con.interrupt)
        timer.start()
        try:
            yield
        except duckdb.InterruptException:
            raise QueryTimeout(f"the query ran longer than {self.timeout:g} s; narrow it") from None
        finally:
            timer.cancel()

    def _gate(self, day: dt.date) -> StoreGate:
        with self._lock:
            gate = self._gates.get(day)
            if gate is None:
                gate = self._gates[day] = self.store.gate(day, exclusive=False, on_release=lambda: self._close_day(day))
            return gate

    def _close_day(self, day: dt.date) -> None:
        """The writer's turn on ``day``: close its connection and forget its results."""
        with self._lock:
            con = self._open.pop(day, None)
            if con is not None:
                con.close()
            self._has_table.discard(day)  # the writer may create the table, or rewrite it in the current layout
            self._older_layout.pop(day, None)
            for key in [k for k in self._results if k[0] == day]:
                self._kept_rows -= len(self._results.pop(key))

    def _day_rows(self, day: dt.date, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """``sql`` on one day file, remembered until the writer next takes that day.

        A day's rows cannot change while this process holds its gate, and the results are dropped
        when it lets go (``_close_day``), so a remembered result is exactly what a new query would
        return: dashboards and many users asking the same question cost one scan.
        """
        key = (day, sql, repr(params))
        with self._lock:
            rows = self._results.get(key)
            if rows is not None:
                self._results.move_to_end(key)
                return rows
        with self._connect(day) as (con, cacheable):
            if con is None:
                return []
            rows = con.execute(sql, params).fetchall()
            if cacheable and len(rows) <= RESULT_ROWS_KEPT:
                with self._lock:
                    if key not in self._results:
                        self._results[key] = rows
                        self._kept_rows += len(rows)
                    while len(self._results) > RESULTS_KEPT or self._kept_rows > RESULT_ROWS_BUDGET:
                        self._kept_rows -= len(self._results.popitem(last=False)[1])
        return rows

    def close(self) -> None:
        """Close the kept-open day files and let writers in."""
        with self._lock:
            gates = list(self._gates.values())
        for gate in gates:
            gate.close()

    def _where(self, f: Filters, *extra: Expr) -> tuple[str, list[Any]]:
        sql, params = compile_sql(and_(f.expr, *extra))
        return f"ts >= ? AND ts < ? AND {sql}", [f.start, f.end, *map(_integral, params)]

    def _rows(
        self, f: Filters, select: str, group: str, *extra: Expr, select_params: list[Any] | None = None
    ) -> Iterator[tuple[Any, ...]]:
        where, params = self._where(f, *extra)
        params = [*(select_params or []), *params]
        for day in self._days(f):
            yield from self._day_rows(day, f"SELECT {select} FROM events WHERE {where} {group}", params)

    # -- Backend --------------------------------------------------------------------------------

    def ping(self) -> str:
        days = self.store.days()
        if not days:
            return f"no data yet under {self.store.directory}"
        with self._connect(days[-1]) as (con, _):
            if con is not None:
                con.execute("SELECT 1").fetchall()
        return f"{len(days)} day file(s) under {self.store.directory}"

    def any_match(self, f: Filters) -> bool:
        where, params = self._where(f)
        return any(
            self._day_rows(day, f"SELECT 1 FROM events WHERE {where} LIMIT 1", params)
            for day in reversed(self._days(f))
        )

    def search_events(self, f: Filters, size: int, sort: str, cursor: str | None) -> dict[str, Any]:
        desc = sort == "desc"
        order = "DESC" if desc else "ASC"
        where, params = self._where(f)
        after_sql, after_params = "", []
        if cursor:
            us, event_id = decode_cursor(cursor)
            if not isinstance(us, int) or not isinstance(event_id, str):
                raise QueryError("cursor is not valid; pass the 'next' value of a previous page")
            t = dt.datetime(1970, 1, 1, tzinfo=UTC) + dt.timedelta(microseconds=us)
            op = "<" if desc else ">"
            after_sql = f" AND (ts {op} ? OR (ts = ? AND id {op} ?))"
            after_params = [t, t, event_id]
        total = 0
        rows: list[tuple[int, str, dt.date]] = []
        days = self._days(f)
        for day in reversed(days) if desc else days:
            one = self._day_rows(day, f"SELECT count(*) FROM events WHERE {where}", params)
            total += one[0][0] if one else 0
            if len(rows) <= size:
                # Order by (ts, id) without the documents, then read only the page's documents:
                # sorting narrow rows costs a fraction of sorting the JSON along with them.
                found = self._day_rows(
                    day,
                    f"SELECT epoch_us(ts), id FROM events WHERE {where}{after_sql} "
                    f"ORDER BY ts {order}, id {order} LIMIT ?",
                    [*params, *after_params, size + 1 - len(rows)],
                )
                rows += [(us, event_id, day) for us, event_id in found]
        page = rows[:size]
        nxt = encode_cursor([page[-1][0], page[-1][1]]) if len(rows) > size else None
        return {"total": total, "events": self._documents(page), "next": nxt}

    def _documents(self, page: list[tuple[int, str, dt.date]]) -> list[Any]:
        """The stored documents of a page of (epoch µs, id, day), in page order.

        Looked up by ``id`` alone: with a time range too, DuckDB scanned the documents of that range
        instead (the newest 387 events of a rare endpoint, spread over a day of 1M events: 453 ms).
        The id column is scanned (14 ms over 500k rows), then the documents of the vectors that
        hold a match are read (the zstd-compressed document: ~80 ms for 168 events spread over a
        day of 500k, under load; the primary key's index, gone with layout 2, fetched rows alone).
        """
        by_day: dict[dt.date, list[str]] = defaultdict(list)
        for _, event_id, day in page:
            by_day[day].append(event_id)
        docs: dict[tuple[dt.date, str], str] = {}
        for day, ids in by_day.items():
            sql = f"SELECT id, doc FROM events WHERE id IN ({', '.join('?' * len(ids))})"
            for event_id, doc in self._day_rows(day, sql, ids):
                docs[(day, event_id)] = doc
        return [orjson.loads(docs[(day, event_id)]) for _, event_id, day in page]

    def errors_over_time(self, f: Filters, interval: str, width_ms: int, by: str | None, top: int) -> dict[str, Any]:
        if by and by not in MANY_VALUED:
            return self._errors_over_time_one_scan(f, interval, width_ms, by, top)
        keys: list[str] | None = None
        key_sql = "NULL"
        key_params: list[Any] = []
        if by:
            # The top series first (few rows), then buckets x (top keys + NULL for the rest).
            key_totals: dict[str, int] = defaultdict(int)
            for k, n in self._rows(f, f"{KEY_SQL[by]} AS k, count(*)", "GROUP BY ALL", ERROR_EXPR):
                if k is not None:
                    key_totals[k] += n
            keys = [k for k, _ in rank(key_totals, top)]
            if keys:
                key_sql = f"CASE WHEN {KEY_SQL[by]} IN ({', '.join('?' * len(keys))}) THEN {KEY_SQL[by]} END"
                key_params = list(keys)
        totals: dict[int, int] = defaultdict(int)
        per: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        missing: dict[int, int] = defaultdict(int)
        none_sql = f"{KEY_SQL[by]} IS NULL" if by else "false"
        select = f"epoch_us(ts) // {width_ms * 1000} * {width_ms} AS b, {key_sql} AS k, {none_sql} AS none, count(*)"
        for b, k, none, n in self._rows(f, select, "GROUP BY ALL", ERROR_EXPR, select_params=key_params):
            totals[b] += n
            if k is not None:
                per[b][k] += n
            elif none:
                missing[b] += n
        return assemble_buckets(interval, bucket_starts(f.start, f.end, width_ms), totals, per, keys, missing)

    def _errors_over_time_one_scan(self, f: Filters, interval: str, width_ms: int, by: str, top: int) -> dict[str, Any]:
        """Buckets x every key in one scan, ranked here: for a key of few values (endpoint, service,
        status class, error type) this costs a third of the two scans, whose second one evaluates
        ``CASE WHEN key IN (top keys)`` on every error row."""
        totals, per, keys, missing = self._bucketed(f, width_ms, KEY_SQL[by], top, ERROR_EXPR)
        return assemble_buckets(interval, bucket_starts(f.start, f.end, width_ms), totals, per, keys, missing)

    def _bucketed(
        self, f: Filters, width_ms: int, key_sql: str, top: int, *extra: Expr
    ) -> tuple[dict[int, int], dict[int, dict[str, int]], list[str], dict[int, int]]:
        """Counts per bucket, per bucket and key for the ``top`` keys (ranked over the range), and per bucket
        of the events without the key, in one scan.

        Buckets from ``epoch_us``: DuckDB's ``epoch_ms`` cost three times as much here (1M rows: 68 ms
        against 22 ms)."""
        totals: dict[int, int] = defaultdict(int)
        key_totals: dict[str, int] = defaultdict(int)
        counts: list[tuple[int, str, int]] = []
        missing: dict[int, int] = defaultdict(int)
        select = f"epoch_us(ts) // {width_ms * 1000} * {width_ms} AS b, {key_sql} AS k, count(*)"
        for b, k, n in self._rows(f, select, "GROUP BY ALL", *extra):
            totals[b] += n
            if k is None:
                missing[b] += n
            else:
                key_totals[k] += n
                counts.append((b, k, n))
        keys = [k for k, _ in rank(key_totals, top)]
        kept = set(keys)
        per: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for b, k, n in counts:
            if k in kept:
                per[b][k] += n
        return totals, per, keys, missing

    def top(self, f: Filters, field: str, size: int, errors: bool) -> dict[str, Any]:
        extra = (ERROR_EXPR,) if errors else ()
        counts: dict[Any, int] = defaultdict(int)
        total = missing = 0
        for k, n in self._rows(f, f"{KEY_SQL[field]} AS k, count(*)", "GROUP BY ALL", *extra):
            total += n
            if k is None:
                missing += n
            else:
                counts[k] += n
        ranked = rank(counts, size)
        named = sum(n for _, n in ranked)
        return {
            "field": field,
            "total": total,
            "top": [{"key": k, "count": n} for k, n in ranked],
            "other": total - missing - named,
            "missing": missing,
        }

    def latency(self, f: Filters, by: str | None, size: int, sort: str = "count") -> dict[str, Any]:
        key = KEY_SQL[by] if by else "NULL"
        slow_sql = f"count(*) FILTER (WHERE list_contains(tags, '{SLOW_TAG}'))"
        rows = self._rows(f, f"{key} AS k, duration_ms, count(*), {slow_sql}", "GROUP BY ALL")
        return latency_answer(rows, by, size, sort)

    def histogram(self, f: Filters, width_ms: int) -> dict[str, Any]:
        totals, per, keys, _ = self._bucketed(f, width_ms, ECS_FIELDS["log.level"].sql, LEVEL_SERIES)
        out = assemble_buckets(interval_name(width_ms), bucket_starts(f.start, f.end, width_ms), totals, per, keys)
        return {**out, "interval_ms": width_ms, "total": sum(totals.values()), "levels": keys}

    def event(self, event_id: str, at: dt.datetime | None) -> dict[str, Any] | None:
        """The stored document of ``event_id``, looked up in the day of ``at`` (every day, newest first, without)."""
        days = self.store.days()
        if at is not None:
            days = days_within(at, at + dt.timedelta(microseconds=1), days)
        for day in reversed(days):
            rows = self._day_rows(day, "SELECT doc FROM events WHERE id = ?", [event_id])
            if rows:
                found: dict[str, Any] = orjson.loads(rows[0][0])
                return found
        return None

    def context(self, event_id: str, at: dt.datetime | None, n: int) -> dict[str, Any] | None:
        offset_sql = ECS_FIELDS["log.offset"].sql

        def lines(f: Filters, before: bool) -> list[dict[str, Any]]:
            order = "DESC" if before else "ASC"
            where, params = self._where(f)
            rows: list[tuple[Any, ...]] = []
            for day in self._days(f):
                rows += self._day_rows(
                    day,
                    f"SELECT {offset_sql} AS o, epoch_us(ts), id, doc FROM events WHERE {where} "
                    f"ORDER BY o {order}, ts {order}, id {order} LIMIT ?",
                    [*params, n],
                )
            rows.sort(key=lambda r: (r[0], r[1], r[2]), reverse=before)
            return [orjson.loads(r[3]) for r in rows[:n]]

        return context_answer(self.event(event_id, at), lines)

    # -- error groups (query.groups) -------------------------------------------------------------

    def group_stats(self, f: Filters) -> dict[str, InRange]:
        stats: dict[str, InRange] = defaultdict(InRange)
        select = f"{GROUP_KEY.sql} AS k, user_id, min(ts), max(ts), count(*)"
        for key, user, first, last, n in self._rows(f, select, "GROUP BY ALL", GROUPED):
            group = stats[key]
            group.add(n, first, last)
            if user is not None:
                group.users.add(user)
        return dict(stats)

    def group_lifetimes(self, keys: list[str]) -> dict[str, tuple[dt.datetime, dt.datetime]]:
        spans: dict[str, tuple[dt.datetime, dt.datetime]] = {}
        sql = (
            f"SELECT {GROUP_KEY.sql} AS k, min(ts), max(ts) FROM events "
            f"WHERE list_contains(tags, 'error') AND {GROUP_KEY.sql} IN ({', '.join('?' * len(keys))}) GROUP BY ALL"
        )
        for day in self.store.days():
            for key, first, last in self._day_rows(day, sql, list(keys)):
                known = spans.get(key)
                spans[key] = (first, last) if known is None else (min(known[0], first), max(known[1], last))
        return spans

    def group_details(self, f: Filters, keys: list[str], width_ms: int) -> dict[str, Details]:
        details: dict[str, Details] = {key: Details() for key in keys}
        where, params = self._where(f, GROUPED)
        listed = f"{GROUP_KEY.sql} IN ({', '.join('?' * len(keys))})"
        select = f"{GROUP_KEY.sql} AS k, endpoint, service, epoch_ms(ts) // {width_ms} * {width_ms} AS b, count(*)"
        newest: dict[str, tuple[int, str, dt.date]] = {}
        for day in self._days(f):
            sql = f"SELECT {select} FROM events WHERE {where} AND {listed} GROUP BY ALL"
            for key, endpoint, service, bucket, n in self._day_rows(day, sql, [*params, *keys]):
                detail = details[key]
                if endpoint is not None:
                    detail.endpoints[endpoint] = detail.endpoints.get(endpoint, 0) + n
                if service is not None:
                    detail.services[service] = detail.services.get(service, 0) + n
                detail.buckets[bucket] = detail.buckets.get(bucket, 0) + n
            sql = (
                f"SELECT k, us, id FROM (SELECT {GROUP_KEY.sql} AS k, epoch_us(ts) AS us, id, row_number() "
                f"OVER (PARTITION BY {GROUP_KEY.sql} ORDER BY ts DESC, id DESC) AS n FROM events "
                f"WHERE {where} AND {listed}) WHERE n = 1"
            )
            for key, us, event_id in self._day_rows(day, sql, [*params, *keys]):
                if key not in newest or (us, event_id) > newest[key][:2]:
                    newest[key] = (us, event_id, day)
        samples = self._documents(list(newest.values()))
        for key, doc in zip(newest, samples, strict=True):
            details[key].sample = doc
        return details

    # -- patterns (query.patterns) ---------------------------------------------------------------

    def messages(self, f: Filters, limit: int) -> list[tuple[dt.datetime, str]]:
        """The ``message`` of the newest ``limit`` events matching, newest first (events without one skipped)."""
        where, params = self._where(f)
        out: list[tuple[dt.datetime, str]] = []
        for day in reversed(self._days(f)):
            if len(out) >= limit:
                break
            sql = (
                f"SELECT ts, message FROM events WHERE {where} AND message IS NOT NULL "
                "ORDER BY ts DESC, id DESC LIMIT ?"
            )
            out += self._day_rows(day, sql, [*params, limit - len(out)])
        return out

    # -- measures of alert rules (alerts/) ------------------------------------------------------

    def count_by(self, f: Filters, by: Field | None, conditions: Sequence[Expr], limit: int) -> dict[Any, list[int]]:
        """Per value of ``by`` (``None``: one group), how many events match each of ``conditions``.

        Only events matching one of them at least are scanned; groups are ranked by those events
        (ties by key) and the first ``limit`` kept, as ``ElasticsearchBackend.count_by`` ranks them.
        """
        key = by.sql if by is not None else "NULL"
        columns: list[str] = []
        column_params: list[Any] = []
        for condition in conditions:
            sql, params = compile_sql(condition)
            columns.append(f"count(*) FILTER (WHERE {sql})")
            column_params += map(_integral, params)
        extra = [or_(*conditions), *([Exists(by)] if by is not None else [])]
        totals: dict[Any, list[int]] = {}
        select = f"{key} AS k, count(*), {', '.join(columns)}"
        for k, total, *counts in self._rows(f, select, "GROUP BY ALL", *extra, select_params=column_params):
            row = totals.setdefault(k, [0] * (len(conditions) + 1))
            row[0] += total
            for i, n in enumerate(counts, 1):
                row[i] += n
        ranked = rank({k: row[0] for k, row in totals.items()}, limit) if by is not None else list(totals.items())
        return {k: totals[k][1:] for k, _ in ranked}

    def duration_values_by(self, f: Filters, by: Field | None, limit: int) -> dict[Any, list[tuple[float, int]]]:
        """Per value of ``by``, the ``event.duration`` values (ms) of the matching events with their counts,
        ascending: exact percentiles on both backends (``query.results.quantile_cont``)."""
        key = by.sql if by is not None else "NULL"
        duration = ECS_FIELDS["event.duration"]
        extra = [Exists(duration), *([Exists(by)] if by is not None else [])]
        values: dict[Any, dict[float, int]] = defaultdict(lambda: defaultdict(int))
        for k, ms, n in self._rows(f, f"{key} AS k, {duration.sql}, count(*)", "GROUP BY ALL", *extra):
            values[k][ms] += n
        ranked = rank({k: sum(v.values()) for k, v in values.items()}, limit) if by is not None else values.items()
        return {k: sorted(values[k].items()) for k, _ in ranked}
