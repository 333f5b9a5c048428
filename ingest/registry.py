"""The registry of offsets: how far each file has been durably shipped, per destination.

Positions belong to a destination: the lines a DuckDB store holds are not those a Kafka topic holds,
so each destination (a DuckDB store, a Kafka topic on a cluster, an Elasticsearch prefix on a
cluster) has its own registry in the data dir (``Registry.for_destination``). ``registry.json`` is
the registry of the first destination written from the data dir (a registry from before
destinations were recorded is adopted by the first one that opens it); every other destination has
``registry-<kind>-<name>-<hash>.json``.

On disk a registry is a snapshot (``<name>.json``, written temp → fsync → rename → fsync(dir)) and
an append-only journal beside it (``<name>.journal``): one JSON line per write, holding only the
states that changed since the previous line, numbered. A write costs what changed, not the number of
files. When the journal has grown past the snapshot's size, the snapshot is rewritten with
everything and the journal emptied (compaction): amortized, still O(what changed) per write. A
crash at any point leaves a readable registry: the old snapshot with the whole journal, or the new
snapshot (its ``seq`` tells which journal lines it already holds); a line torn by a crash is the
journal's last one, and it is ignored with a warning (its positions are read again, and the sinks'
deterministic event ids make that replay store nothing twice).

A registry that cannot be read is a ``RegistryError``: one line naming the file and what to do,
which the CLI prints without a traceback. One that cannot be written (a full disk) raises it too;
the caller keeps the changes in memory and writes them with the next write.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import re
import time
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.chunk import Position
from core.errors import LogferryError

log = logging.getLogger("logferry.registry")

RETIRED_PREFIX = "retired:"
RETIRED_MAX = 64
DEFAULT_NAME = "registry.json"
LEAD_BYTES = 64


def lead_length(fingerprint_len: int) -> int:
    """How many first bytes ``FileState.lead`` hashes for a fingerprint of ``fingerprint_len`` bytes:
    the largest power of two within it from 64 on (all of it below 64). A file that starts with a
    state's fingerprinted bytes hashes to its lead over that length, so a new file's candidates are
    found with a hash per length in use (64, 128, … 1024: a handful), not one per state."""
    if fingerprint_len < LEAD_BYTES:
        return fingerprint_len
    return 1 << (fingerprint_len.bit_length() - 1)


COMPACT_MIN_BYTES = 1024
"""A journal shorter than this is never compacted (a registry of a few files then rewrites its
snapshot every few writes, which keeps ``registry.json`` itself close to current)."""


class RegistryError(LogferryError):
    """The registry cannot be read or written; the message names it and the way out."""


class RegistryBusy(RegistryError):
    """Another process writes this registry (the same destination from the same data dir)."""


@dataclass
class FileState:
    """What the registry remembers of one file, keyed by its identity ``dev:ino``.

    ``fingerprint`` is a hash of the first ``fingerprint_len`` bytes (up to 1 KiB, growing with the
    file); ``source_id`` is fixed per generation because event ids derive from it. ``cut_at`` is the
    offset where a shipped unterminated line ended: a line starting there is its continuation.
    ``checks`` are ``(end, hash)`` of the up to 1 KiB ending at line boundaries already read, ascending:
    a file that starts like this one is its copy only if it has the same bytes there (the head alone
    is not proof). None in a registry written before checks existed. ``lead`` is a hash of the first
    ``lead_length(fingerprint_len)`` bytes: an index of candidate copies, so that a new file is not
    compared with every file known. ``updated`` is when its offset last moved (lines acknowledged).
    """

    path: str
    offset: int
    source_id: str
    fingerprint: str
    fingerprint_len: int
    generation: int = 0
    updated: float = 0.0
    cut_at: int | None = None
    checks: list[tuple[int, str]] | None = None
    lead: str | None = None


class _StoredState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str
    offset: int = Field(ge=0)
    source_id: str = Field(min_length=1)
    fingerprint: str
    fingerprint_len: int = Field(ge=0)
    generation: int = Field(0, ge=0)
    updated: float = 0.0
    cut_at: int | None = Field(None, ge=0)
    checks: list[tuple[int, str]] | None = None
    lead: str | None = None


class Destination(BaseModel):
    """Where the positions of a registry were delivered: ``id`` identifies it, ``name`` is for people."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    id: str
    name: str

    def slug(self) -> str:
        """A file-name part: readable, and unique by a hash of the id."""
        readable = re.sub(r"[^A-Za-z0-9_.-]+", "-", self.id.split(":", 1)[-1]).strip("-.")
        readable = readable[-40:] if self.kind == "duckdb" else readable[:40]  # a path's end, a topic's start
        readable = readable.strip("-.")
        digest = hashlib.blake2b(self.id.encode(), digest_size=4).hexdigest()
        return f"{self.kind}-{readable}-{digest}" if readable else f"{self.kind}-{digest}"


class SinkRecord(BaseModel):
    """What the last writer of a registry recorded about its sink (``logferry status`` shows it)."""

    model_config = ConfigDict(extra="forbid")

    pid: int = 0
    command: str = ""
    cwd: str = ""
    """The writer's working directory: what the relative paths of its globs are relative to."""
    started: float = 0.0
    last_write: float = 0.0
    """When the sink last acknowledged a batch."""
    bytes_acked: int = Field(0, ge=0)
    """Bytes of lines the sink acknowledged, over every run."""
    dead_lettered: int = Field(0, ge=0)
    """Events the sink dead-lettered, over every run."""
    running: bool = False
    """Set while a writer runs; a writer killed leaves it set (``logferry status`` checks the lock)."""


class _StoredRegistry(BaseModel):
    """The snapshot as written by ``compact``; validated whole at load. Version 1 had only ``files``."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1, 2]
    seq: int = Field(0, ge=0)
    destination: Destination | None = None
    sink: SinkRecord | None = None
    files: dict[str, _StoredState]


class _JournalLine(BaseModel):
    """One write: the states that changed (``put``), those forgotten (``drop``), the sink's record."""

    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=1)
    at: float = 0.0
    destination: Destination | None = None
    put: dict[str, _StoredState] = Field(default_factory=dict)
    drop: list[str] = Field(default_factory=list)
    sink: SinkRecord | None = None


class Registry:
    """Offsets by file identity: a snapshot plus an append-only journal of what changed.

    Changes are made in memory (``put``, ``advance``, ``retire``, ``forget``, ``changed``) and
    persisted by ``save``: one journal line with the states changed since the last save. A
    ``Registry`` opened ``read_only`` (``logferry status``) takes no lock and never writes.
    """

    VERSION = 2

    def __init__(
        self,
        path: Path,
        destination: Destination | None = None,
        *,
        read_only: bool = False,
        compact_min_bytes: int = COMPACT_MIN_BYTES,
    ) -> None:
        self.path = path
        self.journal_path = path.with_suffix(".journal")
        self.destination = destination
        self.read_only = read_only
        self.compact_min_bytes = compact_min_bytes
        self.files: dict[str, FileState] = {}
        self.sink = SinkRecord()
        self.stored_destination: Destination | None = None
        self.torn: int = 0
        """Bytes of a torn last journal line ignored at load (0: none)."""
        self._seq = 0
        self._snapshot_bytes = 0
        self._journal_len = 0
        self._journal_fd: int | None = None
        self._closer: Any = None
        self.superseded = False
        """Taken over by a newer writer of the same registry in this process: writes nothing more."""
        self.unsynced = False
        """Journal lines written without fsync (``save(sync=False)``): the next synced save syncs them."""
        self._dirty: set[str] = set()
        self._dropped: set[str] = set()
        self._sink_dirty = False
        self._retired: dict[str, float] = {}
        self._leads: dict[tuple[int, str], set[str]] = {}
        self._lead_of: dict[str, tuple[int, str]] = {}
        self._lengths: dict[int, int] = {}  # lead length -> how many distinct leads of it
        self.unindexed: set[str] = set()
        """Keys of states without a ``lead`` (a registry from an older version): compared one by one."""
        if path.exists() or self.journal_path.exists():
            self._load()
        if destination is not None and self.stored_destination != destination:
            self._sink_dirty = True  # the destination is recorded with the next write

    @classmethod
    def for_destination(cls, data_dir: Path, destination: Destination) -> Registry:
        """The registry of ``destination`` in ``data_dir``: ``registry.json`` when it is that
        destination's (or was written before destinations were recorded, or does not exist yet),
        else ``registry-<slug>.json``."""
        default = data_dir / DEFAULT_NAME
        own = data_dir / f"registry-{destination.slug()}.json"
        if own.exists() or own.with_suffix(".journal").exists():
            return cls(own, destination)
        if default.exists() or default.with_suffix(".journal").exists():
            registry = cls(default, destination)
            if registry.stored_destination is None:
                log.info(
                    "%s (written before positions were kept per destination) is now %s's", default, destination.name
                )
                return registry
            if registry.stored_destination.id == destination.id:
                return registry
            registry.close(save=False)
            return cls(own, destination)
        return cls(default, destination)

    # -- reading ---------------------------------------------------------------------------------

    def _load(self) -> None:
        try:
            if self.path.exists():
                body = self.path.read_bytes()
                self._snapshot_bytes = len(body)
                stored = _StoredRegistry.model_validate_json(body)
                self._seq = stored.seq
                self.stored_destination = stored.destination
                self.sink = stored.sink or SinkRecord()
                self.files = {key: _state(s) for key, s in stored.files.items()}
            if self.journal_path.exists():
                self._replay(self.journal_path.read_bytes())
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "document"
            self._unreadable(
                f"{where}: {first['msg']}" + (f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else "")
            )
        except OSError as exc:
            self._unreadable(exc.strerror or str(exc))
        self._retired = {k: s.updated for k, s in self.files.items() if k.startswith(RETIRED_PREFIX)}
        for key in self.files:
            self._index(key)

    def _replay(self, body: bytes) -> None:
        """Apply the journal's lines newer than the snapshot; a torn last line is ignored with a warning."""
        good = 0
        lines = body.split(b"\n")
        complete, tail = lines[:-1], lines[-1]
        for index, raw in enumerate(complete):
            try:
                line = _JournalLine.model_validate_json(raw)
            except ValidationError:
                if index == len(complete) - 1 and not tail:
                    tail = raw  # the last line, whole but unreadable: torn too (zeroed by a crash)
                    break
                raise
            good += len(raw) + 1
            if line.seq <= self._seq:
                continue
            for key in line.drop:
                self.files.pop(key, None)
            for key, state in line.put.items():
                self.files[key] = _state(state)
            if line.sink is not None:
                self.sink = line.sink
            if line.destination is not None:
                self.stored_destination = line.destination
            self._seq = line.seq
        self._journal_len = good
        if tail:
            self.torn = len(body) - good
            log.warning(
                "registry journal %s ends with a torn record (%d bytes, cut by a crash): ignored; the lines "
                "it acknowledged are read again, and event ids make that replay store nothing twice",
                self.journal_path,
                self.torn,
            )

    def _unreadable(self, reason: str) -> None:
        raise RegistryError(
            f"registry {self.path} is unreadable ({reason}); move it aside (mv {self.path} {self.path}.broken; "
            f"also {self.journal_path.name} if present) and run again: files are then read from their beginning, "
            "and sinks that upsert by event id store no duplicates"
        )

    # -- changing (in memory) --------------------------------------------------------------------

    def get(self, key: str) -> FileState | None:
        return self.files.get(key)

    def put(self, key: str, state: FileState) -> None:
        self.files[key] = state
        self.changed(key, fingerprint=True)

    def changed(self, key: str, *, fingerprint: bool = False) -> None:
        """The state under ``key`` was changed in place (``fingerprint``: its fingerprint too): write it
        with the next save."""
        self._dirty.add(key)
        self._dropped.discard(key)
        if fingerprint:
            self._index(key)

    def _index(self, key: str) -> None:
        state = self.files.get(key)
        if state is None:
            return
        if state.lead is None:
            self.unindexed.add(key)
            return
        lead = (lead_length(state.fingerprint_len), state.lead)
        old = self._lead_of.get(key)
        if old == lead:
            return
        if old is not None:
            self._unindex(key)
        self._lead_of[key] = lead
        keys = self._leads.get(lead)
        if keys is None:
            keys = self._leads[lead] = set()
            self._lengths[lead[0]] = self._lengths.get(lead[0], 0) + 1
        keys.add(key)
        self.unindexed.discard(key)

    def _unindex(self, key: str) -> None:
        self.unindexed.discard(key)
        old = self._lead_of.pop(key, None)
        if old is not None:
            keys = self._leads[old]
            keys.discard(key)
            if not keys:
                del self._leads[old]
                self._lengths[old[0]] -= 1
                if not self._lengths[old[0]]:
                    del self._lengths[old[0]]

    def lead_lengths(self) -> set[int]:
        """The lengths of first bytes the indexed states were hashed over (mostly just ``LEAD_BYTES``)."""
        return set(self._lengths)

    def with_lead(self, length: int, lead: str) -> set[str]:
        """Keys of the states whose first ``length`` bytes hash to ``lead``."""
        return self._leads.get((length, lead), set())

    def advance(self, positions: dict[Position, int]) -> int:
        """Record offsets the sink has accepted, keyed by (identity, source id); returns by how many
        bytes they moved.

        A position of an older incarnation of the file (before a copytruncate or an inode reuse) has
        another source id and cannot move the new incarnation's offset; it moves the state that now
        holds that source id instead (the retired generation, or the copy that continues it).
        """
        now = time.time()
        moved = 0
        for (key, source_id), offset in positions.items():
            state = self.files.get(key)
            if state is None or state.source_id != source_id:
                retired = RETIRED_PREFIX + source_id
                found = (
                    (retired, self.files[retired])
                    if retired in self.files
                    else next(((k, s) for k, s in self.files.items() if s.source_id == source_id), None)
                )
                if found is None:
                    continue
                key, state = found
                offset = max(offset, state.offset)
            if state.offset != offset:
                moved += max(0, offset - state.offset)
                state.offset = offset
                state.updated = now
                self.changed(key)
        return moved

    def retire(self, key: str, state: FileState) -> None:
        """Keep an old generation (truncated away) so that a copy of it can continue where it stopped.

        Only the newest ``RETIRED_MAX`` are kept: a copy is normally made just before the truncation.
        """
        retired = RETIRED_PREFIX + state.source_id
        self.put(retired, state)
        self._retired[retired] = state.updated
        while len(self._retired) > RETIRED_MAX:
            oldest = min(self._retired, key=self._retired.__getitem__)
            self.forget(oldest)

    def forget(self, key: str) -> None:
        if self.files.pop(key, None) is not None:
            self._dropped.add(key)
        self._unindex(key)
        self._dirty.discard(key)
        self._retired.pop(key, None)

    def record_sink(self, **fields: Any) -> None:
        """Update what is recorded about the sink (``SinkRecord`` fields); written with the next save."""
        self.sink = self.sink.model_copy(update=fields)
        self._sink_dirty = True

    @property
    def journal_bytes(self) -> int:
        """Bytes of journal lines not folded into the snapshot yet."""
        return self._journal_len

    @property
    def pending(self) -> bool:
        """Are there changes not saved yet?"""
        return bool(self._dirty or self._dropped or self._sink_dirty)

    # -- writing ---------------------------------------------------------------------------------

    def save(self, *, sync: bool = True, compact: bool = True) -> None:
        """Append what changed since the last save as one journal line (fsynced unless ``sync`` is
        False), then compact if the journal has outgrown the snapshot.

        A failed write (ENOSPC, EIO) cuts the journal back to its previous end and keeps the changes
        for the next save; the registry on disk stays what the last successful save left.
        """
        if self.superseded:
            return
        if self.read_only:
            raise RegistryError(f"registry {self.path} was opened read-only")
        if not self.pending:
            if sync and self.unsynced:
                self._sync_journal()
                self.unsynced = False
            return
        dirty, dropped, sink_dirty = self._dirty, self._dropped, self._sink_dirty
        line: dict[str, Any] = {"seq": self._seq + 1, "at": time.time()}
        if dirty:
            line["put"] = {k: self.files[k] for k in dirty if k in self.files}
        if dropped:
            line["drop"] = sorted(dropped)
        if sink_dirty:
            line["sink"] = self.sink.model_dump()
            if self.destination is not None and self.stored_destination != self.destination:
                line["destination"] = self.destination.model_dump()
        body = orjson.dumps(line) + b"\n"
        self._append(body, sync=sync)
        self.unsynced = not sync
        self._seq += 1
        self._dirty, self._dropped, self._sink_dirty = set(), set(), False
        if "destination" in line:
            self.stored_destination = self.destination
        if compact and (
            not self._snapshot_bytes or self._journal_len > max(self._snapshot_bytes, self.compact_min_bytes)
        ):
            try:
                self.compact()
            except RegistryError as exc:  # the journal holds everything: only its length suffers
                log.warning("%s", exc)

    def compact(self) -> None:
        """Rewrite the snapshot with every state and empty the journal."""
        if self.superseded:
            return
        if self.read_only:
            raise RegistryError(f"registry {self.path} was opened read-only")
        if self.pending:
            self.save(compact=False)
        self._lock()
        destination = self.destination or self.stored_destination
        body = orjson.dumps(
            {
                "version": self.VERSION,
                "seq": self._seq,
                "destination": None if destination is None else destination.model_dump(),
                "sink": self.sink.model_dump(),
                "files": self.files,
            }
        )
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                write_all(fd, body)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
            _sync_dir(self.path.parent)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise RegistryError(
                f"cannot write registry {self.path}: {exc.strerror or exc}; the previous registry is intact "
                "(lines since its last save will be read again)"
            ) from exc
        self.stored_destination = destination
        self._snapshot_bytes = len(body)
        assert self._journal_fd is not None
        try:
            os.ftruncate(self._journal_fd, 0)
            os.fsync(self._journal_fd)
        except OSError as exc:
            # The snapshot holds every line of the journal (its seq says so): a journal left long is
            # only replayed past them. Cut next time.
            log.warning("registry journal %s not emptied after a compaction: %s", self.journal_path, exc)
            return
        self._journal_len = 0
        self.unsynced = False

    def lock(self) -> None:
        """Take the registry for writing now (a writer calls it at start): ``RegistryBusy`` names the
        conflict before anything is read, rather than at the first write."""
        self._lock()

    def _lock(self) -> None:
        """Open the journal and take its lock: one writer per registry."""
        if self._journal_fd is not None:
            return
        if self.superseded:
            raise RegistryError(f"registry {self.path} was taken over by a newer writer in this process")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.journal_path.exists()
        held = str(self.journal_path.absolute())
        older = _HELD.get(held)
        older_registry = older() if older is not None else None
        if older_registry is not None and older_registry is not self:
            older_registry._supersede()
        try:
            fd = os.open(self.journal_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise RegistryError(f"cannot open registry journal {self.journal_path}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise RegistryBusy(
                    f"registry {self.path} is in use by another logferry process writing to the same "
                    "destination from this data dir; stop it first, or give this one its own --data-dir"
                ) from None
            raise RegistryError(f"cannot lock registry journal {self.journal_path}: {exc.strerror}") from exc
        self._journal_fd = fd
        self._closer = weakref.finalize(self, os.close, fd)
        _HELD[held] = weakref.ref(self)
        if created:
            with contextlib.suppress(OSError):
                _sync_dir(self.path.parent)

    def _append(self, body: bytes, *, sync: bool) -> None:
        self._lock()
        fd = self._journal_fd
        assert fd is not None
        try:
            if os.fstat(fd).st_size != self._journal_len:  # a torn tail, or a failed write's rest
                os.ftruncate(fd, self._journal_len)
            view, at = memoryview(body), self._journal_len
            while view:
                written = os.pwrite(fd, view, at)
                if written <= 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                view, at = view[written:], at + written
            if sync:
                os.fdatasync(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, self._journal_len)
            raise RegistryError(
                f"cannot write registry {self.path} (its journal {self.journal_path.name}): {exc.strerror or exc}; "
                "the registry on disk is "
                "intact (positions since its last write are kept in memory and written when there is room)"
            ) from exc
        self._journal_len += len(body)

    def _sync_journal(self) -> None:
        assert self._journal_fd is not None
        try:
            os.fdatasync(self._journal_fd)
        except OSError as exc:
            raise RegistryError(f"cannot sync registry journal {self.journal_path}: {exc.strerror}") from exc

    def close(self, *, save: bool = True) -> None:
        """Save what is pending and write the snapshot whole (a failed save raises; a failed
        compaction only warns: the journal holds everything), then release the lock."""
        try:
            if save and not self.read_only and (self.pending or self._journal_len):
                self.save(compact=False)
                try:
                    self.compact()
                except RegistryError as exc:
                    log.warning("%s", exc)
        finally:
            self._release()

    def _supersede(self) -> None:
        """A newer ``Registry`` of this process writes this file now (this one was left behind: a source
        abandoned without closing it, as after a crash): this one lets go and writes nothing more."""
        log.info("registry %s: taken over by a newer writer in this process", self.path)
        self.superseded = True
        self._release()

    def _release(self) -> None:
        if self._closer is not None:
            self._closer()
            self._closer = None
        self._journal_fd = None


_HELD: dict[str, weakref.ref[Registry]] = {}
"""The registry of this process holding each journal's lock: a newer writer of the same file in this
process supersedes it (flock conflicts between two descriptors of one process as between processes)."""


def writer_running(registry: Registry) -> bool:
    """Does another process hold ``registry`` for writing now (a running ``run``, ``ingest``, ``ship``)?"""
    try:
        fd = os.open(registry.journal_path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        return exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN)
    finally:
        os.close(fd)
    return False


def registries_in(data_dir: Path) -> Iterator[Registry]:
    """Every registry of ``data_dir``, read-only (for ``logferry status``)."""
    names = {p.with_suffix(".json") for p in data_dir.glob("registry*.json")}
    names |= {p.with_suffix(".json") for p in data_dir.glob("registry*.journal")}
    for path in sorted(names, key=lambda p: (p.name != DEFAULT_NAME, p.name)):
        yield Registry(path, read_only=True)


def _state(stored: _StoredState) -> FileState:
    state = FileState(**stored.model_dump())
    if state.checks is not None:
        state.checks = [tuple(check) for check in state.checks]  # type: ignore[misc]
    return state


def _sync_dir(directory: Path) -> None:
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def write_all(fd: int, body: bytes) -> None:
    """``os.write`` may write less than asked (a nearly full disk): loop until all is written; a write
    that makes no progress is a full disk."""
    view = memoryview(body)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]


def offsets_of(states: Iterable[tuple[str, FileState]]) -> dict[str, int]:
    """Offsets by identity, without retired generations: what a reader of the registry asks for."""
    return {key: state.offset for key, state in states if not key.startswith(RETIRED_PREFIX)}
