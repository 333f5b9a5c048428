"""The embedded default sink: batches into per-day DuckDB files, idempotent on the event id."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections import OrderedDict
from pathlib import Path

import duckdb

from ingest.batch import Batch
from ingest.deadletter import DeadLetterFile
from ingest.document import utc_day
from ingest.duckdb_store import COLUMNS_FROM_DOC, DayStore
from logferry import metrics

INSERT_FILE = f"INSERT OR IGNORE INTO events SELECT {COLUMNS_FROM_DOC} FROM read_ndjson_objects(?) t(j)"
NO_TIMESTAMP = "missing or invalid @timestamp: the document has no UTC day to be stored under"
INSERT_ONE = f"INSERT OR IGNORE INTO events SELECT {COLUMNS_FROM_DOC} FROM (SELECT CAST(? AS JSON) AS j)"


class DuckDBSink:
    """Writes each batch day by day; a document DuckDB refuses goes to the dead-letter file."""

    name = "duckdb"

    def __init__(self, store: DayStore, deadletter: DeadLetterFile, spool_dir: Path, open_days: int = 4) -> None:
        self.store = store
        self.deadletter = deadletter
        self.spool_dir = spool_dir
        self.open_days = open_days
        self._connections: OrderedDict[dt.date, duckdb.DuckDBPyConnection] = OrderedDict()
        self.dead_lettered = 0

    def connection(self, day: dt.date) -> duckdb.DuckDBPyConnection:
        """The cached connection to one day's file (created on first write), least recent closed."""
        con = self._connections.pop(day, None)
        if con is None:
            con = self.store.connect(day, create=True)
            while len(self._connections) >= self.open_days:
                _, old = self._connections.popitem(last=False)
                old.close()
        self._connections[day] = con
        return con

    def write(self, batch: Batch) -> None:
        """Return only when every document is in DuckDB (committed) or in the dead-letter file."""
        by_day: dict[dt.date, list[bytes]] = {}
        refused: list[tuple[str, bytes]] = []
        for event, doc in zip(batch.events, batch.docs, strict=True):
            day = utc_day(event.get("@timestamp"))
            if day is None:
                refused.append((NO_TIMESTAMP, doc))
            else:
                by_day.setdefault(day, []).append(doc)
        for day, docs in sorted(by_day.items()):
            refused.extend(self._write_day(day, docs))
        if refused:
            self.deadletter.write(self.name, refused)
            self.dead_lettered += len(refused)
            for reason, _ in refused:
                metrics.DEAD_LETTERED.labels(self.name, "timestamp" if reason == NO_TIMESTAMP else "refused").inc()

    def _write_day(self, day: dt.date, docs: list[bytes]) -> list[tuple[str, bytes]]:
        con = self.connection(day)
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        fd, spool = tempfile.mkstemp(prefix="batch-", suffix=".ndjson", dir=self.spool_dir)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(b"\n".join(docs))
            con.execute(INSERT_FILE, [spool])
            return []
        except duckdb.Error:
            return self._write_one_by_one(con, docs)
        finally:
            os.unlink(spool)

    @staticmethod
    def _write_one_by_one(con: duckdb.DuckDBPyConnection, docs: list[bytes]) -> list[tuple[str, bytes]]:
        """A batch DuckDB refused: find the documents at fault, keep the rest."""
        refused = []
        for doc in docs:
            try:
                con.execute(INSERT_ONE, [doc.decode("utf-8", "replace")])
            except duckdb.Error as exc:
                refused.append((f"duckdb: {exc}", doc))
        return refused

    def close(self) -> None:
        while self._connections:
            _, con = self._connections.popitem()
            con.close()
