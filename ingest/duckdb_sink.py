"""The embedded default sink: batches into per-day DuckDB files as Arrow columns, a replay stored once.

A batch goes to DuckDB as one Arrow table of typed columns read from the shipped documents
(``store.columns``: compiled, no JSON parsed inside DuckDB) and appended in one transaction per day
file. A failure of the store itself (disk full, I/O error, a database DuckDB invalidated after one)
is raised as retriable after closing every connection, so the retry reconnects and the offsets do
not move; only a document the store cannot take goes to the dead-letter file, with the reason.

Idempotency without a unique index. Rows carry ``batch``: the number of the write whose
acknowledgement covers them. Batches are acknowledged in order (``ingest.pipeline``), and a batch's
positions cover every document before its last ``mark`` (``Batch.marked``); documents after it belong
to a block a later batch acknowledges, so they carry the next number. Each write records its
positions in the day file's ``batches`` table, in the transaction of its rows. At start-up,
``recover`` asks the source how far it acknowledged (the registry is the truth) and deletes the rows
of the previous run whose batch was never acknowledged: the source reads those lines again, so
they are stored exactly once. A run that ended cleanly has none to delete. Numbers are
``run << 32 | sequence``; the writer lock's file names the run and the days it wrote, written before
its first row in each day.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import shutil
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import duckdb
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from core.chunk import Position
from core.errors import SinkUnavailable
from core.outcomes import DEAD_LETTERED, MISSING_TIMESTAMP, REFUSED, EventCounts
from enrich.event_id import event_id as file_event_id
from ingest.batch import Batch
from ingest.deadletter import DeadLetterFile
from store.columns import DocReader
from store.day_store import (
    DayStore,
    StoreBusy,
    StoreGate,
    WriterLock,
    is_storage_fault,
    share_write_connection,
)
from store.schema import BATCH_COLUMN, SOURCE_ID_COLUMN

log = logging.getLogger("logferry.duckdb")

NO_TIMESTAMP = "missing or invalid @timestamp: the document has no UTC day to be stored under"
RUN_BITS = 32
WRITER_THREADS = 1
JOURNAL_KEPT = 1024  # batches' positions kept per day file while a run writes
RECENT_SOURCES = 16  # sources of the last marks, tried for the rows after a batch's last mark


class StoreFailed(SinkUnavailable):
    """DuckDB could not store a batch for a reason of its own (disk, I/O); retried after reconnecting."""


@runtime_checkable
class Rereads(Protocol):
    """A source that can say which offsets of a position this run reads again: from what it had
    acknowledged to what is there to read (None: it will not read the position again)."""

    def rereads(self, position: Position) -> tuple[int, int] | None: ...


class DuckDBSink:
    """Writes each batch day by day; a document the store refuses goes to the dead-letter file.

    Construction takes the store's writer lock (``StoreBusy`` when another process writes) and
    starts a run; call ``recover(source)`` before the first write (``logferry.assemble`` does). A day
    file stays open between batches only while no reader waits for it (see ``StoreGate``).
    """

    name = "duckdb"

    def __init__(
        self,
        store: DayStore,
        deadletter: DeadLetterFile,
        open_days: int = 4,
        gate_timeout: float = 60.0,
        compiled: bool = True,
    ) -> None:
        self.store = store
        self.deadletter = deadletter
        self.open_days = open_days
        self.gate_timeout = gate_timeout
        self.counts = EventCounts()
        self.reader = DocReader(compiled)
        self._writer_lock = WriterLock(store.directory)
        self._writer_lock.acquire()
        self._connections: dict[dt.date, duckdb.DuckDBPyConnection] = {}
        self._gates: dict[dt.date, StoreGate] = {}
        try:
            self._runs = WriterRuns(self._writer_lock)
            self._runs.start()
        except BaseException:
            self._writer_lock.release()
            raise
        self._next = self._runs.run << RUN_BITS
        self._last_day: dt.date | None = None
        self._retrying: tuple[Batch, int, set[dt.date]] | None = None
        """The last batch written, its number and the days committed: writing it again skips those."""
        self._source: Rereads | None = None
        self._resumed_at: dict[str, tuple[int, int] | None] = {}
        """Per source seen in this run, the offsets it reads again (``Rereads``)."""
        self._stored_before: dict[dt.date, dict[str, int]] = {}
        """Per day written in this run, the highest ``source_end`` of each source before this run."""
        self._checked: set[tuple[str, dt.date]] = set()
        self._tails: list[tuple[int, set[dt.date]]] = []
        self._recent_sources: list[str] = []
        """Rows stored with no source yet (after their batch's last mark): their number and days."""

    # -- connections ------------------------------------------------------------------------------

    def connection(self, day: dt.date) -> duckdb.DuckDBPyConnection:
        """The open connection to one day's file (created on first write); the oldest day is closed."""
        con = self._connections.get(day)
        if con is None:
            while len(self._connections) >= self.open_days:
                self._gates[min(self._connections)].release()
            con = self._connections[day] = self.store.connect(day, create=True)
            # Appending an Arrow batch on one thread costs a quarter less CPU than on two (the
            # compiled chain has the other core); bench.duckdb_insert measures both.
            con.execute(f"SET threads = {WRITER_THREADS}")
            share_write_connection(self.store.path(day), self._gate(day), con)
        return con

    def _gate(self, day: dt.date) -> StoreGate:
        gate = self._gates.get(day)
        if gate is None:
            gate = self._gates[day] = self.store.gate(day, exclusive=True, on_release=lambda: self._close(day))
        return gate

    # -- recovery ---------------------------------------------------------------------------------

    def recover(self, source: object) -> int:
        """Delete the previous run's rows that ``source`` never acknowledged and reads again; returns how many.

        The previous run's batches are read newest first until one whose positions the source has
        acknowledged: every row numbered past it is ahead of the source's positions. Of those, the
        rows of a source that this run reads again, up to where it can (``Rereads``), are deleted:
        they come back with this run's batches. Rows of a source it does not read again (a file
        deleted since, standard input) stay: a duplicate is possible then, a loss never.
        """
        if isinstance(source, Rereads):
            self._source = source
        previous = self._runs.previous
        if previous is None:
            return 0
        run, days = previous["run"], [dt.date.fromisoformat(d) for d in previous["days"]]
        hi = (run + 1) << RUN_BITS
        deleted = 0
        try:
            decision = previous.get("decision")
            if decision is None:
                decision = self._decide(days, run, source.rereads if isinstance(source, Rereads) else None)
                self._runs.deciding(decision)
            for day in days:
                if not self.store.path(day).exists():
                    continue
                with self._gate(day).held(self.gate_timeout):
                    deleted += self._delete_unacknowledged(day, decision, hi)
        except StoreBusy as exc:
            raise StoreFailed(str(exc)) from None
        except (duckdb.Error, OSError) as exc:
            if is_storage_fault(exc):
                for day in list(self._connections):
                    self._close(day)
            raise StoreFailed(f"recovering {self.store.directory}: {' '.join(str(exc).split())}") from None
        if deleted:
            log.warning(
                "the previous run stopped before %d stored events were acknowledged; deleted them, the source "
                "reads them again",
                deleted,
            )
        self._runs.recovered()
        return deleted

    def _delete_unacknowledged(self, day: dt.date, decision: dict[str, Any], hi: int) -> int:
        """The spans are joined as a table, not OR-ed one condition per source: a run over 10,000 files
        has 10,000 of them, and DuckDB took minutes over such a condition."""
        con = self.connection(day)
        con.execute("BEGIN")
        found = 0
        spans = decision["spans"]
        if decision["from"] is not None and (spans or decision["nulls"]):
            keys = list(spans)
            table = pa.table(
                {
                    "span_source": pa.array(keys, pa.string()),
                    "span_first": pa.array([spans[k][0] for k in keys], pa.int64()),
                    "span_last": pa.array([spans[k][1] for k in keys], pa.int64()),
                }
            )
            con.register("reread_spans", table)
            try:
                rows = (
                    "batch >= ? AND batch < ? AND ("
                    + ("source_id IS NULL OR " if decision["nulls"] else "")
                    + "EXISTS (SELECT 1 FROM reread_spans WHERE span_source = events.source_id"
                    " AND events.source_end > span_first AND events.source_end <= span_last))"
                )
                params = [decision["from"], hi]
                found = con.execute(f"SELECT count(*) FROM events WHERE {rows}", params).fetchall()[0][0]
                if found:
                    con.execute(f"DELETE FROM events WHERE {rows}", params)
            finally:
                con.unregister("reread_spans")
        con.execute("DELETE FROM batches WHERE batch < ?", [hi])
        con.execute("COMMIT")
        return found

    def _decide(self, days: list[dt.date], run: int, rereads: Any) -> dict[str, Any]:
        """Which of the previous run's rows to delete: those numbered from ``from`` on, of the sources
        in ``spans`` within their span, and those without a source if ``nulls``."""
        keep: dict[str, Any] = {"from": None, "nulls": False, "spans": {}}
        if rereads is None:
            return keep
        rereads = functools.lru_cache(maxsize=None)(rereads)  # a broker round trip for a Kafka partition
        lo, hi = run << RUN_BITS, (run + 1) << RUN_BITS
        entries: dict[int, list[list[Any]]] = {}
        keys: set[str] = set()
        for day in days:
            if not self.store.path(day).exists():
                continue
            with self._gate(day).held(self.gate_timeout):
                con = self.connection(day)
                for number, positions in con.execute(
                    "SELECT batch, positions FROM batches WHERE batch >= ? AND batch < ?", [lo, hi]
                ).fetchall():
                    entries[number] = orjson.loads(positions)
        # Newest first, to the last batch whose positions the source has all acknowledged; a position
        # it does not read again (or not up to that offset) counts as acknowledged, its rows stay.
        start, everything_read = lo, True
        for number in sorted(entries, reverse=True):
            done, unread = True, False
            for p0, p1, offset in entries[number]:
                span = rereads((p0, p1))
                if span is None or offset > span[1]:
                    unread = True
                elif span[0] < offset:
                    done = False
            if done:
                start = number + 1
                break
            everything_read = everything_read and not unread
        for day in days:
            if not self.store.path(day).exists():
                continue
            with self._gate(day).held(self.gate_timeout):
                con = self.connection(day)
                keys |= {
                    key
                    for (key,) in con.execute(
                        "SELECT DISTINCT source_id FROM events WHERE batch >= ? AND batch < ? "
                        "AND source_id IS NOT NULL",
                        [start, hi],
                    ).fetchall()
                }
        position_of = {source_key((p0, p1)): (p0, p1) for positions in entries.values() for p0, p1, _ in positions}
        spans = {}
        for key in keys:
            span = rereads(position_of[key]) if key in position_of else None
            if span is not None:
                spans[key] = list(span)
        return {"from": start, "nulls": everything_read, "spans": spans}

    # -- writing ----------------------------------------------------------------------------------

    def write(self, batch: Batch) -> None:
        """Return only when every document is in DuckDB (committed) or in the dead-letter file.

        A batch written again (retried after a failure) keeps its number and skips the days already
        committed, so a retry stores nothing twice. Documents are not looked up by id: ids are unique
        by construction (file identity + offset), and a replay after a crash is undone by ``recover``.
        """
        if self._runs.previous is not None:
            log.warning("writing without recovering the previous run: its unacknowledged rows stay")
            self._runs.recovered()
        if self._retrying is not None and self._retrying[0] is batch:
            _, number, done = self._retrying
        else:
            number, done = self._next + 1, set()
            self._next = number
            self._retrying = (batch, number, done)
        segments = [(index, source_key(position), offset) for index, position, offset in batch.marks]
        for _, position, _ in batch.marks:
            self._resume_point(position)
        if batch.marked < len(batch.docs):
            tail = self._tail_source(batch)
            if tail is not None:
                segments.append((len(batch.docs), *tail))
        rows = self.reader.read(batch.docs, (number, number + 1, batch.marked), segments)
        positions = None
        if batch.positions:
            positions = orjson.dumps([[p[0], p[1], offset] for p, offset in batch.positions.items()]).decode()
        refused = [(NO_TIMESTAMP, batch.docs[i]) for i in rows.no_day]
        refused += [(f"duckdb: {why}", batch.docs[i]) for i, why in rows.refused]
        try:
            for day, table in sorted(rows.days.items()):
                if day in done:
                    continue
                with self._gate(day).held(self.gate_timeout):
                    refused.extend(self._write_day(day, table, number, positions))
                done.add(day)
            if positions is not None and not rows.days and self._last_day is not None:
                # Nothing stored, but later rows may be numbered past it: keep what it acknowledges.
                day = self._last_day
                with self._gate(day).held(self.gate_timeout):
                    self._write_day(day, None, number, positions)
            self._attribute_tails(batch, number, rows.days)
        except StoreBusy as exc:
            raise StoreFailed(str(exc)) from None
        if refused:
            self.deadletter.write(self.name, refused)
            for reason, _ in refused:
                self.counts.add(DEAD_LETTERED, MISSING_TIMESTAMP if reason == NO_TIMESTAMP else REFUSED)

    def _write_day(
        self, day: dt.date, table: pa.Table | None, number: int, positions: str | None
    ) -> list[tuple[str, bytes]]:
        """Append the day's rows and the batch's positions in one transaction.

        The columns are typed before DuckDB sees them, so DuckDB has no reason of its own to refuse
        a row; should it, the rows at fault are found by halving (each part committed alone) and
        returned with the reason.
        """
        self._runs.wrote(day)
        self._last_day = day
        try:
            con = self.connection(day)
            con.execute("BEGIN")
        except (duckdb.Error, OSError) as exc:
            if is_storage_fault(exc):
                self._fail(day, exc)
            raise
        try:
            if table is not None:
                once = self._drop_replayed(day, con, table)
                if once:
                    _insert_new_ids(con, table, once)
                else:
                    con.from_arrow(table).insert_into("events")
            if positions is not None:
                con.execute("INSERT INTO batches VALUES (?, ?)", [number, positions])
                if number % JOURNAL_KEPT == 0:
                    # Recovery reads back to the last acknowledged batch: a few in flight, never thousands.
                    con.execute("DELETE FROM batches WHERE batch < ?", [number - JOURNAL_KEPT])
            con.execute("COMMIT")
            return []
        except (duckdb.Error, OSError) as exc:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            if is_storage_fault(exc) or table is None:
                self._fail(day, exc)
            log.warning("%s refused a batch (%s); finding the rows at fault", self.store.path(day), exc)
        return self._write_halved(day, con, table, number, positions)

    def _write_halved(
        self, day: dt.date, con: duckdb.DuckDBPyConnection, table: pa.Table, number: int, positions: str | None
    ) -> list[tuple[str, bytes]]:
        refused: list[tuple[str, bytes]] = []
        parts = [table]
        try:
            while parts:
                part = parts.pop()
                try:
                    con.from_arrow(part).insert_into("events")
                    continue
                except duckdb.Error as exc:
                    if is_storage_fault(exc):
                        raise
                    if part.num_rows == 1:
                        refused.append((f"duckdb: {' '.join(str(exc).split())}", part["doc"][0].as_py().encode()))
                        continue
                mid = part.num_rows // 2
                parts += [part.slice(mid), part.slice(0, mid)]
            if positions is not None:
                con.execute("INSERT INTO batches VALUES (?, ?)", [number, positions])
        except (duckdb.Error, OSError) as exc:
            self._fail(day, exc)
        return refused

    def _resume_point(self, position: Position) -> tuple[int, int] | None:
        """Where the source began reading ``position`` in this run (asked once, at its first batch)."""
        key = source_key(position)
        if key not in self._resumed_at:
            self._resumed_at[key] = None if self._source is None else self._source.rereads(position)
        return self._resumed_at[key]

    def _drop_replayed(self, day: dt.date, con: duckdb.DuckDBPyConnection, table: pa.Table) -> list[str]:
        """Delete what an earlier run stored of a source past where this run began reading it; returns
        the sources in ``table`` that cannot be read again (standard input), stored once by id.

        The source reads those lines again (its registry was lost, or a killed run stored them
        unacknowledged): the registry is the truth, and the rows come back with this run's batches.
        Checked once per source and day, against the highest offset each source had in the day file
        when this run first opened it, so a source new to the day costs nothing. A source read only
        once (stdin) has no position to resume from; a stream piped again has the same ids (content
        and offset), looked up among that source's rows only.
        """
        keys = [key for key in pc.unique(table.column(SOURCE_ID_COLUMN)).to_pylist() if key is not None]
        once = [key for key in keys if self._source is not None and self._resumed_at.get(key, 0) is None]
        before = self._stored_before.get(day)
        if before is None:
            before = self._stored_before[day] = dict(
                con.execute(
                    "SELECT source_id, max(source_end) FROM events WHERE source_id IS NOT NULL GROUP BY ALL"
                ).fetchall()
            )
        if not before:
            return once
        for key in keys:
            if (key, day) in self._checked:
                continue
            self._checked.add((key, day))
            span = self._resumed_at.get(key)
            if span is None or before.get(key, -1) <= span[0]:
                continue
            con.execute("DELETE FROM events WHERE source_id = ? AND source_end > ? AND source_end <= ?", [key, *span])
            log.warning(
                "%s: deleted what an earlier run stored of %s past offset %d: this run reads it again",
                self.store.path(day),
                key,
                span[0],
            )
        return once

    def _tail_source(self, batch: Batch) -> tuple[str, int] | None:
        """The source of the rows after the batch's last mark, when their ids prove it, and the
        offset that stands for their block's end: the first such row's, plus one.

        Those rows are lines of one block whose mark a later batch carries; usually the next block
        of a file just marked. A file line's id is a hash of its source id and offset
        (``enrich.event_id``): the first row's id, recomputed for the recent sources, names the
        block's source without waiting for its mark. A replay that reads that row again starts at
        or before it, and ``source_end`` = its offset + 1 is past such a start.
        """
        try:
            first = orjson.loads(batch.docs[batch.marked])
            event_id, offset = first["event"]["id"], first["log"]["offset"]
        except (orjson.JSONDecodeError, KeyError, TypeError, IndexError):
            return None
        if not isinstance(event_id, str) or type(offset) is not int:
            return None
        candidates = [source_key(p) for _, p, _ in reversed(batch.marks)] + self._recent_sources[::-1]
        for key in dict.fromkeys(candidates):
            if file_event_id(key, offset) == event_id:
                return key, offset + 1
        return None

    def _attribute_tails(self, batch: Batch, number: int, days: dict[dt.date, pa.Table]) -> None:
        """Give the rows stored with no source yet the source their block's mark names, once seen
        (rare: a new file's first block cut across batches, or a Kafka partition's)."""
        if batch.marks and self._tails:
            _, position, reached = batch.marks[0]
            numbers = [n for n, _ in self._tails]
            touched = set().union(*(d for _, d in self._tails))
            for day in sorted(touched):
                if not self.store.path(day).exists():
                    continue
                with self._gate(day).held(self.gate_timeout):
                    con = self.connection(day)
                    try:
                        con.execute(
                            f"UPDATE events SET source_id = ?, source_end = ? WHERE batch IN "
                            f"({', '.join('?' * len(numbers))}) AND source_id IS NULL",
                            [source_key(position), reached, *numbers],
                        )
                    except (duckdb.Error, OSError) as exc:
                        if is_storage_fault(exc):
                            self._fail(day, exc)
                        raise
            self._tails = []
        for _, position, _ in batch.marks:
            key = source_key(position)
            if key in self._recent_sources:
                self._recent_sources.remove(key)
            self._recent_sources.append(key)
        del self._recent_sources[:-RECENT_SOURCES]
        unattributed = {
            day
            for day, table in days.items()
            if table.column(SOURCE_ID_COLUMN).null_count and pc.max(table.column(BATCH_COLUMN)).as_py() > number
        }
        if unattributed:
            self._tails.append((number + 1, unattributed))

    def _fail(self, day: dt.date, exc: BaseException) -> None:
        """Drop the connection (DuckDB may have invalidated the database) and raise a retriable error."""
        self._close(day)
        message = " ".join(str(exc).split())
        raise StoreFailed(f"{self.store.path(day)}: {message}") from None

    def _close(self, day: dt.date) -> None:
        con = self._connections.pop(day, None)
        if con is None:
            return
        share_write_connection(self.store.path(day), self._gate(day), None)
        try:
            con.close()
        except duckdb.Error as exc:
            # The commit already happened; a failed checkpoint leaves the WAL, replayed on next open.
            log.warning("closing %s: %s", self.store.path(day), " ".join(str(exc).split()))

    def close(self) -> None:
        for gate in self._gates.values():
            gate.close()
        self._writer_lock.release()


class WriterRuns:
    """This run's number and the days it wrote, and the previous run's until recovered, kept in the
    writer lock's file (``WriterLock.record``), synced before the first row of each day, so a run
    killed at any point has every day it wrote listed there."""

    def __init__(self, lock: WriterLock) -> None:
        self.lock = lock
        self.run = 0
        self.days: list[str] = []
        self.previous: dict[str, Any] | None = None

    def start(self) -> None:
        """Begin a run after the last one recorded; that one becomes ``previous`` (to recover)."""
        last: dict[str, Any] = {}
        if self.lock.previous:
            try:
                last = orjson.loads(self.lock.previous)
            except orjson.JSONDecodeError as exc:
                log.warning("%s: the last run's record is unreadable (%s): it is not recovered", self.lock.path, exc)
        pending = last.get("previous")
        if pending is not None and pending.get("decision") is not None:
            self.previous = pending  # a recovery that was decided and not finished: finish it first
        elif last.get("days"):
            self.previous = {"run": int(last["run"]), "days": list(last["days"]), "decision": None}
        self.run = max(int(last.get("run", 0)), int((pending or {}).get("run", 0))) + 1
        self._save()

    def wrote(self, day: dt.date) -> None:
        text = day.isoformat()
        if text not in self.days:
            self.days.append(text)
            self._save()

    def deciding(self, decision: dict[str, Any]) -> None:
        """The rows to delete are decided: kept, so a recovery stopped half-way deletes the same."""
        assert self.previous is not None
        self.previous["decision"] = decision
        self._save()

    def recovered(self) -> None:
        self.previous = None
        self._save()

    def _save(self) -> None:
        self.lock.record(orjson.dumps({"run": self.run, "days": self.days, "previous": self.previous}))


def _insert_new_ids(con: duckdb.DuckDBPyConnection, table: pa.Table, sources: list[str]) -> None:
    """Append ``table``, less the rows of ``sources`` whose id those sources already stored."""
    marks = ", ".join("?" * len(sources))
    con.register("incoming_rows", table)
    try:
        con.execute(
            f"INSERT INTO events SELECT * FROM incoming_rows WHERE source_id IS NULL OR source_id NOT IN ({marks}) "
            f"OR id NOT IN (SELECT id FROM events WHERE source_id IN ({marks}))",
            [*sources, *sources],
        )
    finally:
        con.unregister("incoming_rows")


def source_key(position: Position) -> str:
    """What ``source_id`` holds for a position: a file generation's source id, a Kafka partition."""
    return position[1] or position[0]


def remove_spool(data_dir: Path) -> None:
    """Delete ``<data_dir>/spool``, where earlier versions staged batches (killed runs left files)."""
    shutil.rmtree(data_dir / "spool", ignore_errors=True)
