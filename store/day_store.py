"""The embedded store's layout: one DuckDB file per UTC day, so dropping a day frees its disk.

DuckDB lets one process open a file read-write *or* any number of processes open it read-only,
never both. So that ``serve``, ``search`` and ``stats`` work beside ``ingest``/``run`` on one data
dir, every process takes turns on each day file through ``StoreGate``, a readers-writer lock made
of two ``flock`` files beside it: readers share it and keep their read-only connections open while
nobody waits, the writer holds it alone and keeps its read-write connections open while nobody
waits, and whichever side waits gets the next turn. ``WriterLock`` keeps it to one writer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb

from core.errors import LogferryError
from store.schema import BATCHES_DDL, EVENTS_DDL, layout_of, migrate_sql

log = logging.getLogger("logferry.duckdb")

DAY_FILE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})\.duckdb$")


class DayStore:
    """Paths and connections of the per-day DuckDB files under one directory."""

    def __init__(
        self, directory: Path, memory_limit: str = "2GB", threads: int = 2, checkpoint_threshold: str = "64MB"
    ) -> None:
        self.directory = directory
        self._config: dict[str, Any] = {
            "memory_limit": memory_limit,
            "threads": threads,
            "checkpoint_threshold": checkpoint_threshold,
        }

    def path(self, day: dt.date) -> Path:
        return self.directory / f"{day.isoformat()}.duckdb"

    def gate(self, day: dt.date, *, exclusive: bool, on_release: Callable[[], None]) -> StoreGate:
        """This process's side of the turn-taking on one day file (``.<day>.gate`` beside it)."""
        return StoreGate(self.directory / f".{day.isoformat()}", exclusive=exclusive, on_release=on_release)

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
        """A connection to one day's file: read-write with ``create`` (file and tables made if
        missing, a day file of an older layout rewritten in the current one), read-only otherwise,
        so that any number of readers can share the file."""
        path = self.path(day)
        if create:
            self.directory.mkdir(parents=True, exist_ok=True)
        elif not path.exists():
            raise FileNotFoundError(path)
        con = duckdb.connect(str(path), read_only=not create, config=dict(self._config))
        if create:
            try:
                if layout_of(con) == 1:
                    migrate(con, path)
                con.execute(EVENTS_DDL)
                con.execute(BATCHES_DDL)
            except BaseException:
                con.close()
                raise
        return con


def migrate(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Rewrite a day file's layout-1 ``events`` table in the current layout, in one transaction."""
    log.info("%s: rewriting events in the current layout (typed columns, no unique index)", path)
    started = time.monotonic()
    database = con.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    con.execute("BEGIN")
    try:
        for statement in migrate_sql(database):
            con.execute(statement)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("CHECKPOINT")
    log.info("%s: rewritten in %.1f s", path, time.monotonic() - started)


class StoreBusy(LogferryError):
    """Another process writes to the store, or holds it longer than we can wait."""


class WriterLock:
    """At most one writing process per store directory: ``flock`` on ``DIR/.lock``, our pid inside.

    The kernel drops the lock when the process dies (even on kill -9), so a stale file never
    blocks the next writer. After the pid, the holder may keep one line of its own (``record``):
    what the next writer must know about this run; ``previous`` is the line the last holder left.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / ".lock"
        self._fd: int | None = None
        self.previous = b""

    def acquire(self) -> None:
        """Take the lock or raise ``StoreBusy`` naming the process that holds it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).split(b"\n")[0].decode(errors="replace").strip() or "?"
            os.close(fd)
            raise StoreBusy(
                f"another logferry process (pid {holder}) is writing to {self.directory}; "
                "stop it first, or query beside it (serve, search and stats can run alongside)"
            ) from None
        left = os.pread(fd, 1 << 20, 0).split(b"\n")
        self.previous = left[1] if len(left) > 2 else b""  # a line is whole only with its newline
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def record(self, line: bytes) -> None:
        """Keep ``line`` after the pid, synced: one ``pwrite`` (a kill cannot cut it), then the rest cut off."""
        assert self._fd is not None and b"\n" not in line
        body = f"{os.getpid()}\n".encode() + line + b"\n"
        os.pwrite(self._fd, body, 0)
        os.ftruncate(self._fd, len(body))
        os.fsync(self._fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _flock(fd: int, op: int, deadline: float, what: str) -> None:
    """``flock`` polled without blocking until ``deadline`` (a blocked flock cannot be given up)."""
    pause = 0.002
    while True:
        try:
            fcntl.flock(fd, op | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise StoreBusy(what) from None
            time.sleep(pause)
            pause = min(pause * 2, 0.02)


def _try_flock(fd: int, op: int) -> bool:
    try:
        fcntl.flock(fd, op | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    fcntl.flock(fd, fcntl.LOCK_UN)
    return True


class StoreGate:
    """One process's side of a day file's readers-writer lock, held across uses until the other side waits.

    DuckDB locks each file on its own, so each day file has its own gate: readers of sealed past
    days never wait for the writer of today. ``.<day>.gate`` is the lock itself (shared for
    readers, exclusive for the writer). ``.<day>.gate-intent`` says who waits: a side takes it
    (readers shared, the writer exclusive) while it waits for the gate and lets go once in, so the
    side holding the gate sees a waiter when it fails to take the intent its own way (readers
    never conflict with readers there). The holder then lets its in-flight uses finish, calls
    ``on_release`` (close the DuckDB connection) and unlocks; new uses in this process wait their
    turn behind the other side, so neither side starves the other. One watcher thread per process
    does the same for idle holders, which nobody else would notice.
    """

    def __init__(self, lock_path: Path, *, exclusive: bool, on_release: Callable[[], None]) -> None:
        self.lock_path = lock_path
        self.exclusive = exclusive
        self.on_release = on_release
        self._mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        self._cond = threading.Condition()
        self._gate_fd: int | None = None
        self._intent_fd: int | None = None
        self._users = 0

    @contextlib.contextmanager
    def held(self, timeout: float) -> Iterator[None]:
        """Use the file; waits at most ``timeout`` s for the other side (then ``StoreBusy``)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._gate_fd is not None and self._other_waits():
                if not self._users:
                    self._let_go()
                    break
                self._wait(deadline)
            if self._gate_fd is None:
                self._acquire(deadline)
            self._users += 1
        try:
            yield
        finally:
            with self._cond:
                self._users -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def joined(self) -> Iterator[bool]:
        """Join the current holding as one more use, if held and nobody waits; yields whether it did."""
        with self._cond:
            ok = self._gate_fd is not None and not self._other_waits()
            if ok:
                self._users += 1
        try:
            yield ok
        finally:
            if ok:
                with self._cond:
                    self._users -= 1
                    self._cond.notify_all()

    def in_use(self) -> bool:
        """A use is in flight (between entering and leaving ``held``).

        Read without ``self._cond``: callers hold their own lock, which ``on_release`` may take
        under ``self._cond``; a use that starts after this read is still counted before it can
        reach the caller's lock.
        """
        return self._users > 0

    def release(self) -> None:
        """Let go now (after in-flight uses); the next use takes the gate again."""
        with self._cond:
            while self._users:
                self._cond.wait()
            self._let_go()

    def close(self) -> None:
        self.release()
        with self._cond:
            if self._intent_fd is not None:
                os.close(self._intent_fd)
                self._intent_fd = None

    # -- under self._cond ---------------------------------------------------------------------

    def _open(self, suffix: str) -> int:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(f"{self.lock_path}{suffix}", os.O_RDONLY | os.O_CREAT, 0o644)

    def _acquire(self, deadline: float) -> None:
        if self._intent_fd is None:
            self._intent_fd = self._open(".gate-intent")
        gate_fd = self._open(".gate")
        side = "the writer" if not self.exclusive else "a reader"
        what = f"{self.lock_path.parent}: {side} held the store longer than we could wait; try again"
        try:
            _flock(self._intent_fd, self._mode, deadline, what)
            try:
                _flock(gate_fd, self._mode, deadline, what)
            finally:
                fcntl.flock(self._intent_fd, fcntl.LOCK_UN)
        except BaseException:
            os.close(gate_fd)
            raise
        self._gate_fd = gate_fd
        _watch(self)

    def _other_waits(self) -> bool:
        """Taking the intent our own way fails only while the other side holds it (waits)."""
        return self._intent_fd is not None and not _try_flock(self._intent_fd, self._mode)

    def _wait(self, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise StoreBusy(f"{self.lock_path.parent}: in-flight work did not finish in time; try again")
        self._cond.wait(min(left, WATCH_POLL))

    def _let_go(self) -> None:
        if self._gate_fd is None:
            return
        try:
            self.on_release()
        finally:
            os.close(self._gate_fd)
            self._gate_fd = None

    def _let_go_if_waited_for(self) -> bool:
        """The watcher's check; False once the gate is not held any more.

        A gate whose lock is taken is passed over until the next round: ``held`` keeps it while it
        waits for the file lock (up to its timeout), and the one watcher of the process must not wait
        there, since the other side it waits for may be this process's own holder (``logferry run``
        queries the day its writer holds) that only the watcher lets go.
        """
        if not self._cond.acquire(blocking=False):
            return True
        try:
            if self._gate_fd is not None and not self._users and self._other_waits():
                self._let_go()
            return self._gate_fd is not None
        finally:
            self._cond.release()


_local_writes: dict[Path, tuple[StoreGate, duckdb.DuckDBPyConnection]] = {}
_local_writes_lock = threading.Lock()


def share_write_connection(path: Path, gate: StoreGate, con: duckdb.DuckDBPyConnection | None) -> None:
    """Offer (``con``) or withdraw (``None``) this process's read-write connection to a day file.

    ``logferry run`` writes and serves in one process: a query there reads through the writer's
    connection (DuckDB's MVCC within one instance) instead of making the writer close the file.
    """
    with _local_writes_lock:
        if con is None:
            _local_writes.pop(path, None)
        else:
            _local_writes[path] = (gate, con)


@contextlib.contextmanager
def local_write_cursor(path: Path) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A cursor on this process's read-write connection to ``path``, held open for the ``with``;
    ``None`` when this process does not hold the file (or a reader elsewhere waits for it)."""
    with _local_writes_lock:
        shared = _local_writes.get(path)
    if shared is None:
        yield None
        return
    gate, con = shared
    with gate.joined() as ok:
        with _local_writes_lock:
            still = _local_writes.get(path)
        if not ok or still is None or still[1] is not con:
            yield None
            return
        cursor = con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()


WATCH_POLL = 0.05  # s between two checks of the held gates for a waiting other side
_held_gates: set[StoreGate] = set()
_held_lock = threading.Lock()
_watcher: threading.Thread | None = None


def _watch(gate: StoreGate) -> None:
    global _watcher
    with _held_lock:
        _held_gates.add(gate)
        if _watcher is None:
            _watcher = threading.Thread(target=_watch_loop, name="store-gates", daemon=True)
            _watcher.start()


def _watch_loop() -> None:
    while True:
        time.sleep(WATCH_POLL)
        with _held_lock:
            gates = list(_held_gates)
        for gate in gates:
            try:
                still_held = gate._let_go_if_waited_for()
            except Exception:  # noqa: BLE001 - closing connections must not kill the watcher
                log.exception("releasing %s failed", gate.lock_path)
                still_held = True
            if not still_held:
                with _held_lock:
                    _held_gates.discard(gate)


STORAGE_FAULTS = (
    duckdb.IOException,
    duckdb.FatalException,
    duckdb.TransactionException,
    duckdb.InternalException,
    duckdb.OutOfMemoryException,
    duckdb.PermissionException,
    duckdb.InterruptException,
    duckdb.ConnectionException,
)


def is_storage_fault(exc: BaseException) -> bool:
    """A failure of the store itself (disk full, I/O, invalidated database), never a document's fault."""
    if isinstance(exc, (*STORAGE_FAULTS, OSError)):
        return True
    text = str(exc)
    return "invalidated" in text or "No space left" in text or errno.errorcode[errno.ENOSPC] in text
