"""The file source: follow globs, read each complete line once, survive rotation and restarts.

It is the file server that the other modules of this package serve, as in Vector's file source: the
paths provider (``paths.py``) says which files the globs match, the fingerprinter (``fingerprint.py``)
what makes a file the same one, a new generation or a copy, the watcher (``watcher.py``) reads one
open file into lines, and the checkpointer (``checkpointer.py``) writes acknowledged positions to the
registry. Here: which files to open, when to look at them again, and when to let them go.

Identity. A file is known by ``dev:ino`` plus a fingerprint of its first bytes (up to 1 KiB, as
Filebeat; it grows with a young file) and the checks of what was read (below). A known entry is
resumed only when the fingerprint matches, the file has the bytes of the entry's last check it is
long enough for (a file replaced by another with the same first KiB, the inode reused, is not the
same file), and the file is at least as long as the offset; an entry whose offset lies beyond a
matching file is a mismatched registry (warned, resumed at the end, nothing re-read); anything else
is a new generation (truncated while we were away, or a reused inode) read from 0.

Many files. A scan lists the globs' directories without a ``stat`` per file; only a file new to the
source (a new name or a new identity) is looked at further, and only a new or changed file has its
first bytes read. Files already known are looked at again on a schedule of their own: a file that
reached its end is checked after 0.1 s (or ``scan_frequency`` if shorter), then at doubling intervals
up to ``max_backoff`` while it stays idle. At most ``harvester_limit`` files are open: when a file
waits for a descriptor, the file that reached its end longest ago is closed (and reopened when it
grows), and a process whose descriptor limit is lower than that still never fails: a file that
cannot be opened for want of descriptors waits for one.

Rotation by rename: a file once found by the glob stays open and is read wherever it was renamed to,
until it has not grown for ``close_inactive`` (Filebeat's ``close.on_state_change.inactive``); a
deleted file is read to its end and closed. Globs are re-scanned every ``scan_frequency`` seconds
between reads, and a pinner thread opens files new to the globs on the same schedule even while a
slow sink holds the reading thread: a file that sat under its name only briefly is still read whole.
A copy of a file still being followed is not read (its lines come from the original).

What is a copy. The head alone is no proof: two services print the same banner, two structlog files
start with the same clock, a young file is a prefix of another. A file whose head matches a followed
file is its copy only if it is not longer than the original and its last block (up to 1 KiB) equals the
original's bytes at the same offsets; while the original is found truncated since it was read, the
file is looked at again once that generation is retired. A file whose head matches a
generation no longer followed (truncated, deleted, renamed away) continues it only if it has the same
bytes as a check the state keeps: hashes of the 1 KiB ending at line boundaries read, those of the
last three reads and the first past each power of two below them. The check used is the last one
within the file; unless it is the latest, it must lie past half the file (a copy is at most a little
shorter than what was read; a file whose second half was never compared is not taken for one).
Anything else is a different file, read from its start: a copy that cannot be verified costs
duplicates, never lost lines. A registry written before checks existed keeps the head-only rule for
its retired generations (logged). Candidates are found by a hash of their first 64 bytes, not by
comparing a new file with every file known.

Rotation by copytruncate: every read checks size and fingerprint; a file shorter than what was read,
or whose first bytes changed, starts a new generation at 0 and drops the unfinished line. The old
generation is retired in the registry: a copy of it (a new file with its first bytes and its checked
bytes, above) continues at the offset already read, with the old source id, so its event ids are those
the original would have had.

Unterminated last line: it waits for its newline. ``run`` keeps waiting while the file is still
where its writer writes (at the name it was found under): a line completed after ``close_inactive``
is read whole, once, untagged. It is shipped, tagged ``_partial``, when the file is finished: deleted,
or renamed away and not grown for ``close_inactive``; one-shot ``ingest`` ships it when the file was
not modified for ``close_inactive`` (by its modification time), since it cannot wait. The offset then
moves past it and the cut is remembered (``cut_at``): if the writer later completes the line, the rest
is shipped once, also tagged ``_partial``. It cannot be stored once as a whole instead: the sinks keep
the first document an event id names (DuckDB inserts or ignores, a Kafka topic only appends), so the
fragment already stored stays; the rest under its own offset keeps every byte exactly once. On
SIGTERM an unterminated line stays ahead of the registry and is read again by the next run.

``start_at = "end"`` applies to the files found by the first scan; a file appearing later is new
content (a rotation) and is read from its start, as Vector does.

Binary and compressed files (a NUL byte or a compression magic in the first block) are skipped with
a warning and counted by reason in ``logferry_files_skipped``.

Lines are yielded in chunks with the offset up to which they are complete; the registry moves there
only after the sink acknowledged them.
"""

from __future__ import annotations

import contextlib
import errno
import heapq
import logging
import os
import resource
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from core import metrics
from core.chunk import Chunk, Position
from core.errors import LogferryError
from core.outcomes import EventCounts
from ingest.config import FileInputConfig
from ingest.file_source.checkpointer import Checkpointer
from ingest.file_source.fingerprint import (
    FINGERPRINT_MAX,
    block_before,
    checked_bytes,
    checkpoint,
    digest,
    file_key,
    first_check,
    head_matches,
    lead_of,
    new_state,
    same_content,
    unreadable_reason,
)
from ingest.file_source.paths import Found, PathsProvider
from ingest.file_source.watcher import TRUNCATED_FILE, Watcher
from ingest.registry import RETIRED_PREFIX, FileState, Registry

log = logging.getLogger("logferry.file_source")

BACKOFF_START = 0.1
AUTO_LIMIT_MAX = 1024
PREFETCH_MAX = 64 * 1024
"""A new file up to this size is read whole when it is opened (one read instead of three)."""
OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE)


class NoInput(LogferryError):
    """``ingest`` was given paths that match no file: it says which, and why, instead of reading nothing."""


class _Defer:
    """Not now: the file is looked at again at the next scan."""


DEFER = _Defer()


@dataclass
class _Resume:
    """How far this process read a file it closed: past the registry while batches are in flight."""

    source_id: str
    offset: int
    size_seen: int


@dataclass
class _Idle:
    """A file matched but not open (read to its end and closed, empty, skipped): where, and how big."""

    path: str
    input: int
    size: int


def descriptor_budget(limit: int) -> int:
    """Files to hold open at once: ``limit``, or (0) a quarter of the process's descriptor limit; never
    more than half of that limit (the store, the registry and sockets need descriptors too)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return limit or AUTO_LIMIT_MAX
    if not limit:
        return max(4, min(AUTO_LIMIT_MAX, soft // 4))
    if limit > soft // 2:
        log.warning(
            "harvester_limit %d is more than this process's descriptor limit (ulimit -n %d) leaves for files: "
            "following at most %d at a time",
            limit,
            soft,
            max(4, soft // 2),
        )
        return max(4, soft // 2)
    return limit


class FileSource:
    """Follows the configured globs; ``poll`` yields chunks of new complete lines."""

    def __init__(
        self,
        config: FileInputConfig,
        registry: Registry,
        *,
        once: bool = False,
        stop: threading.Event | None = None,
    ) -> None:
        self.config = config
        self.registry = registry
        self.once = once
        self.counts = EventCounts()
        self.paths = PathsProvider(config.paths, config.exclude)
        self.checkpointer = Checkpointer(registry, config.registry_flush, stop=stop)
        self.harvesters: dict[str, Watcher] = {}
        self.limit = descriptor_budget(config.harvester_limit)
        self.already_read: list[tuple[str, int]] = []
        """Files matched at start that the registry says were read to their end: (path, size)."""
        self._max_line = config.max_line_bytes
        self._backoff_start = min(BACKOFF_START, config.scan_frequency)
        self._last_scan = 0.0
        self._scanned = False
        self._seen: dict[str, str] = {}  # path -> identity hint, as the last scan left them settled
        self._again: set[str] = set()  # paths to look at again at the next scan (not settled)
        self._hints: dict[str, str] = {}  # identity hints that are not the file's identity (a mount)
        self._resume: dict[str, _Resume] = {}
        self._skipped: dict[str, int] = {}
        self._idle: dict[str, _Idle] = {}
        self._active: dict[str, None] = {}  # open, with something to read: read every poll
        self._at_end: dict[str, None] = {}  # open, read to the end, oldest first: closed first for room
        self._waiting: dict[str, tuple[Found, int]] = {}  # to open when a descriptor is free, and its size
        self._checks: list[tuple[float, str]] = []
        self._due: dict[str, tuple[float, float]] = {}  # key -> (when, backoff)
        self._head_only: set[str] = set()  # states without checks, already logged
        self._warned_missing: set[str] = set()
        self._unregistered = False
        self._started = False  # after the first scan, new files are rotations: read from their start
        self._began: dict[str, tuple[int, int]] = {}  # per source id: where this run began reading, and the size
        if once:
            self.paths.scan()
            if self.paths.missing:
                raise NoInput(
                    "nothing to read: "
                    + "; ".join(f"{pattern} {why}" for pattern, why in self.paths.missing.items())
                    + " (ingest reads files that exist now; `run` waits for them)"
                )
        self.checkpointer.start()
        self._pinner = None if once else _Pinner(self)
        # A source dropped without close() (a library user, a test) still leaves its acknowledged
        # positions written, as close() would have, rather than those of the last interval.
        self._dropped = weakref.finalize(self, self.checkpointer.write_quietly)

    def attach(self, sink: Any) -> None:
        """The sink these positions are for: its dead letters are recorded in the registry."""
        self.checkpointer.attach(sink)

    # -- discovery -------------------------------------------------------------------------------

    def scan(self) -> None:
        """Look at every matched file now: files that appeared, grew, were truncated or renamed are
        opened (the periodic scan between reads leaves files it knows to their own schedule)."""
        self._scan(full=True)

    def _scan_due(self) -> bool:
        """Is it time to scan again? One-shot mode reads the files its first scan found, like
        ``filebeat --once``: what appears meanwhile is the next run's."""
        return not self.once and time.monotonic() - self._last_scan >= self.config.scan_frequency

    def _scan_if_due(self) -> None:
        if self._scan_due():
            self._scan(full=False)

    def _scan(self, *, full: bool) -> None:
        """Files the pinner opened meanwhile are taken over, even if they left the globs since."""
        self._last_scan = time.monotonic()
        pinned = self._pinner.take() if self._pinner is not None else {}
        found = self.paths.scan()
        if not self.once:
            self._warn_missing()
        if full or pinned or self.paths.changed:
            paths: list[str] = sorted(found)
        else:  # no directory changed: only what was left to look at again
            paths = sorted(path for path in self._again if path in found)
        seen = self._seen if not (full or self.paths.changed) else {}
        before = self._seen
        for path in paths:
            entry = found[path]
            key = self._hints.get(entry.key, entry.key)
            file = pinned.pop(key, (path, None))[1]
            if not full and file is None and before.get(path) == entry.key:
                seen[path] = entry.key  # the same file as last time: its own schedule watches it
                continue
            if self._consider(path, key, entry.input, file, first=not self._started):
                seen[path] = entry.key
                self._again.discard(path)
            else:
                seen.pop(path, None)
                self._again.add(path)
        self._seen = seen
        self._again.intersection_update(found)
        for key, (path, file) in pinned.items():  # renamed out of the globs, or deleted, since pinned
            if key in self.harvesters:
                file.close()
            else:
                self._open(path, key, 0, self.registry.get(key), file)
        if full:
            self._refresh()
        self._started = self._scanned = True

    def _look_again(self, path: str) -> None:
        """The next scan looks at ``path`` again, even if its directory did not change."""
        self._seen.pop(path, None)
        self._again.add(path)

    def _warn_missing(self) -> None:
        for pattern, why in self.paths.missing.items():
            if pattern not in self._warned_missing:
                self._warned_missing.add(pattern)
                log.warning("input %s %s: watching it, read as soon as it matches a file", pattern, why)
        for pattern in list(self._warned_missing):
            if pattern not in self.paths.missing:
                self._warned_missing.discard(pattern)
                log.warning("input %s matches files now: reading them", pattern)

    def _consider(self, path: str, key: str, input: int, file: BinaryIO | None, *, first: bool = False) -> bool:
        """Decide about a matched file new to this scan; False if it is to be looked at again next scan."""
        h = self.harvesters.get(key)
        if h is not None:
            if h.path != path:
                h.moved = True
                h.path = h.state.path = path
                self.registry.changed(key)
            if file is not None:
                file.close()
            return True
        if file is None and not self.config.ignore_older and self._unseen(key):
            return self._open(path, key, input, None)  # new to this source: its descriptor says the rest
        try:
            st = os.fstat(file.fileno()) if file is not None else os.stat(path)
        except OSError:
            if file is not None:
                file.close()
            return False
        if file_key(st) != key:
            real = file_key(st)
            if file is None and key not in self.registry.files:
                self._hints[key] = real  # the directory entry does not name the file's device (a mount)
            key = real
            if key in self.harvesters:
                return self._consider(path, key, input, file)
        if not self._wanted(path, key, st, first=first):
            if file is not None:
                file.close()
            self._track_idle(key, path, input, st.st_size)
            return True
        self._idle.pop(key, None)
        return self._open(path, key, input, self.registry.get(key), file, size=st.st_size)

    def _wanted(self, path: str, key: str, st: os.stat_result, *, first: bool = False) -> bool:
        """Should a matched file be opened: not open yet, not skipped, with something new to read."""
        if st.st_size == 0 or self._skipped.get(key, -1) >= 0 and st.st_size >= self._skipped[key]:
            return False
        known = self.registry.get(key)
        if known is None and self.config.ignore_older and time.time() - st.st_mtime > self.config.ignore_older:
            return False
        resume = self._resume.get(key)
        if known is not None and resume is not None and resume.source_id == known.source_id:
            return st.st_size != resume.size_seen
        unchanged = known is not None and known.path == path and st.st_size == known.offset
        if unchanged and first:
            self.already_read.append((path, st.st_size))
        return not unchanged

    def _track_idle(self, key: str, path: str, input: int, size: int) -> None:
        """A matched file not open: looked at again on its schedule (``run``), for growth."""
        if self.once:
            return
        idle = self._idle.get(key)
        if idle is None:
            self._idle[key] = _Idle(path, input, size)
            self._schedule(key)
        else:
            idle.path, idle.input, idle.size = path, input, size

    def _open(
        self,
        path: str,
        key: str,
        input: int,
        known: FileState | None,
        file: BinaryIO | None = None,
        *,
        size: int = 0,
    ) -> bool:
        """Open a file to read it (or queue it for a descriptor); False to look at it again next scan."""
        if file is None:
            if not self._room():
                self._waiting[key] = (Found(path, key, input), size)
                return True
            try:
                file = open(path, "rb", buffering=0)  # noqa: SIM115 - held open across polls, closed in _close
            except OSError as exc:
                if exc.errno in OUT_OF_DESCRIPTORS:
                    self._descriptors_exhausted()
                    self._waiting[key] = (Found(path, key, input), size)
                    return True
                return False
        self._waiting.pop(key, None)
        fd = file.fileno()
        try:
            st = os.fstat(fd)
            # A small file is read whole at once: its first lines come from this read, not another.
            first = os.pread(fd, PREFETCH_MAX if st.st_size <= PREFETCH_MAX else FINGERPRINT_MAX, 0)
        except OSError:
            file.close()
            return False
        head = first[:FINGERPRINT_MAX]
        real = file_key(st)
        if real != key:
            if real in self.harvesters or key in self.registry.files or key in self._resume:
                file.close()
                return False  # replaced since it was found: the next scan sees the new one
            self._hints[key] = real  # the directory entry does not name the file's device (a mount)
            key, known = real, self.registry.get(real)
        if not head:
            file.close()
            self._track_idle(key, path, input, 0)
            return True
        reason = unreadable_reason(head)
        if reason is not None:
            file.close()
            self._skipped[key] = st.st_size
            self._track_idle(key, path, input, st.st_size)
            metrics.FILES_SKIPPED.labels(reason).inc()
            log.warning("skipping %s: a %s file, not text lines (first bytes %r)", path, reason, head[:8])
            return True
        try:
            found = self._identify(path, key, st.st_size, head, known, fd)
        except OSError:
            found = None
        if found is None:
            file.close()
            return False
        state, start = found
        if state.lead is None and len(head) >= state.fingerprint_len:  # from a registry before leads
            state.lead = lead_of(head[: state.fingerprint_len])
        whole = start == 0 and len(first) < PREFETCH_MAX and len(first) >= st.st_size
        with contextlib.suppress(OSError):
            if not state.checks:
                if start > 0:  # skipped (start_at=end) or read by an older version
                    checkpoint(state, start, block_before(fd, start))
                else:
                    first_check(state, fd, start, self.config.read_buffer_bytes, first if whole else None)
        self.registry.put(key, state)
        self._began.setdefault(state.source_id, (start, st.st_size))
        self._unregistered = True
        self._idle.pop(key, None)
        self._due.pop(key, None)
        h = Watcher(
            key, path, file, fd, state, start, start, input=input, size=max(st.st_size, len(first)), began=start
        )
        if whole:
            h.prefetched = first
        self.harvesters[key] = h
        self._active[key] = None
        return True

    def _identify(
        self, path: str, key: str, size: int, head: bytes, known: FileState | None, fd: int
    ) -> tuple[FileState, int] | None:
        """The state to continue and the offset to read from; None to leave the file alone for now."""
        if known is not None and head_matches(head, known) and same_content(known, fd, size):
            known.path = path
            start = self._read_to(key, known)
            if size >= start:
                return known, start
            resume = self._resume.get(key)
            if resume is None or resume.source_id != known.source_id:
                log.warning(
                    "registry entry of %s says offset %d but the file (same first %d bytes) has %d: "
                    "a mismatched registry entry; continuing at its end without re-reading it",
                    path,
                    known.offset,
                    known.fingerprint_len,
                    size,
                )
                known.offset, known.cut_at = size, None
                return known, size
            self._retire(key, known, start)  # truncated since this process read it; same first bytes
            return new_state(key, path, head, 0, known.generation + 1), 0
        if known is not None:
            if head_matches(head, known):
                log.info(
                    "%s has the first %d bytes of what was read of it but not its content: a new file",
                    path,
                    known.fingerprint_len,
                )
            self._retire(key, known, self._read_to(key, known))
        copy = self._copy_of(key, head, size, fd)
        if isinstance(copy, _Defer):
            return None
        if copy is not None:
            return copy
        from_start = self.config.start_at == "beginning" or known is not None or self._started
        start = 0 if from_start else size
        generation = known.generation + 1 if known is not None else 0
        return new_state(key, path, head, start, generation), start

    def _lookalikes(self, key: str, head: bytes) -> list[tuple[str, FileState]]:
        """Known states whose fingerprinted first bytes ``head`` starts with (the copy candidates)."""
        registry = self.registry
        keys: set[str] = set(registry.unindexed)
        for length in registry.lead_lengths():
            if length <= len(head):
                keys |= registry.with_lead(length, digest(head[:length]))
        found = []
        for other_key in sorted(keys):
            other = registry.files.get(other_key)
            if other_key != key and other is not None and other.fingerprint_len and head_matches(head, other):
                found.append((other_key, other))
        return found

    def _copy_of(self, key: str, head: bytes, size: int, fd: int) -> tuple[FileState, int] | _Defer | None:
        """A new file whose content is that of a known one: a copy (copytruncate, cp + rm).

        It continues an old generation at the offset already read, with that generation's source
        id; a copy of a file still followed at its path is not read (``DEFER``: looked at again next
        scan). A matching head is only the candidate test; see the module docstring for the proof.
        """
        for other_key, other in self._lookalikes(key, head):
            if not other_key.startswith(RETIRED_PREFIX):
                followed = self._followed_copy(other_key, other, fd, size)
                if followed is not None:
                    if followed:
                        return DEFER
                    continue
            if not self._has_checked_bytes(other_key, other, fd, size):
                continue
            start = self._read_to(other_key, other)
            if size < start:
                return DEFER  # the copy is still being written
            state = FileState(
                other.path,
                other.offset,
                other.source_id,
                other.fingerprint,
                other.fingerprint_len,
                other.generation,
                time.time(),
                other.cut_at,
                None if other.checks is None else list(other.checks),
                other.lead,
            )
            self.registry.forget(other_key)
            self._resume.pop(other_key, None)
            log.info("%s continues %s from offset %d (a copy of it)", key, other.path, start)
            return state, start
        return None

    def _followed_copy(self, other_key: str, other: FileState, fd: int, size: int) -> bool | None:
        """Is the file on ``fd`` a copy of ``other``, still followed at its path? None: not followed.

        A copy is at most as long as the original and ends with the original's bytes. If the original
        was truncated since it was read (shorter than read, or its head changed), the file may be a copy
        of the generation before: it is looked at again once the watcher retired that generation, or,
        if the original is not open, judged by that generation's checks at once. Without a descriptor
        to look at the original with, the decision waits (True: looked at again next scan).
        """
        h = self.harvesters.get(other_key)
        original: BinaryIO | None = None
        try:
            if h is not None:
                other_fd, read_to = h.fd, h.read_pos
            else:
                try:
                    original = open(other.path, "rb", buffering=0)  # noqa: SIM115 - closed below
                except OSError as exc:
                    return True if exc.errno in OUT_OF_DESCRIPTORS else None
                other_fd, read_to = original.fileno(), self._read_to(other_key, other)
                st = os.fstat(other_fd)
                if file_key(st) != other_key:
                    return None
            try:
                other_size = os.fstat(other_fd).st_size
                gone = other_size < read_to or not head_matches(os.pread(other_fd, FINGERPRINT_MAX, 0), other)
                if gone:  # truncated since read: the copy is judged against that generation's checks
                    return True if h is not None else None  # the watcher retires it first
                if size > other_size:
                    return False
                block = block_before(fd, size)
                return bool(block) and os.pread(other_fd, len(block), size - len(block)) == block
            except OSError:
                return h is not None  # the original's descriptor failed: decide at the next scan
        finally:
            if original is not None:
                original.close()

    def _has_checked_bytes(self, other_key: str, other: FileState, fd: int, size: int) -> bool:
        """Does the file on ``fd`` have the bytes of ``other``'s last check it is long enough for?"""
        checked = checked_bytes(other, fd, size)
        if checked is None:
            if other_key not in self._head_only:
                self._head_only.add(other_key)
                log.info(
                    "%s (%s) has no content checks (registry from an older version): a file with its first "
                    "%d bytes is taken for its copy on the head alone",
                    other_key,
                    other.path,
                    other.fingerprint_len,
                )
            return True
        return checked

    def _read_to(self, key: str, known: FileState) -> int:
        """How far this process has read a file: past the registry while batches are in flight."""
        resume = self._resume.get(key)
        return resume.offset if resume is not None and resume.source_id == known.source_id else known.offset

    def _retire(self, key: str, state: FileState, read_to: int) -> None:
        """Keep a generation that was truncated away, so that a copy of it continues at ``read_to``."""
        self.registry.forget(key)
        self.registry.retire(key, state)
        self._resume[RETIRED_PREFIX + state.source_id] = _Resume(state.source_id, read_to, -1)
        self._resume.pop(key, None)

    # -- descriptors -----------------------------------------------------------------------------

    def _room(self) -> bool:
        """Is there a descriptor for one more file? Makes room by closing the file that reached its end
        longest ago (not one holding an unterminated line: it would be shipped as a fragment)."""
        if len(self.harvesters) + self._pinned() < self.limit:
            return True
        for key in list(self._at_end):
            h = self.harvesters.get(key)
            if h is None:
                del self._at_end[key]
            elif not (h.pending or h.skipping):
                self._close(h)
                return True
        return False

    def _pinned(self) -> int:
        return self._pinner.count() if self._pinner is not None else 0

    def _descriptors_exhausted(self) -> None:
        """The process ran out of descriptors: follow a quarter fewer files than are open now (the
        rest of the process, its store and its sockets, needs some too) and close files at their end
        down to that."""
        limit = max(1, len(self.harvesters) * 3 // 4)
        if limit < self.limit:
            log.warning(
                "out of file descriptors with %d files open: following at most %d at a time "
                "(raise `ulimit -n` or set [input] harvester_limit below it)",
                len(self.harvesters),
                limit,
            )
            self.limit = limit
        for key in [*self._at_end, *self._active]:
            if len(self.harvesters) + self._pinned() <= self.limit:
                break
            h = self.harvesters.get(key)
            if h is None or h.pending or h.skipping:
                continue
            if key in self._at_end:
                self._close(h)
            elif h.read_pos == h.began and h.prefetched is None:  # opened, nothing read yet: later
                self._close(h)
                self._idle.pop(key, None)
                self._due.pop(key, None)
                self._waiting[key] = (Found(h.path, key, h.input), h.size)

    def _fill(self) -> None:
        """Open the files that wait for a descriptor, as far as there is room."""
        while self._waiting and self._room():
            key, (found, _) = next(iter(self._waiting.items()))
            del self._waiting[key]
            if not self._consider(found.path, key, found.input, None):
                self._look_again(found.path)

    # -- checks ----------------------------------------------------------------------------------

    def _schedule(self, key: str, *, grew: bool = False) -> None:
        _, backoff = self._due.get(key, (0.0, 0.0))
        backoff = self._backoff_start if grew or not backoff else min(backoff * 2, self.config.max_backoff)
        when = time.monotonic() + backoff
        self._due[key] = (when, backoff)
        heapq.heappush(self._checks, (when, key))

    def _due_now(self) -> list[str]:
        now, due = time.monotonic(), []
        checks = self._checks
        while checks and checks[0][0] <= now:
            when, key = heapq.heappop(checks)
            entry = self._due.get(key)
            if entry is not None and entry[0] == when:
                due.append(key)
        return due

    def _check(self, keys: list[str]) -> Iterator[Chunk]:
        """Look at files on their schedule: an open one for growth or its end (``_finish_if_done``),
        a closed one for growth, by ``stat`` of its path."""
        for key in keys:
            h = self.harvesters.get(key)
            if h is None:
                self._look_idle(key)
                continue
            if key in self._active or not self._look_open(h):
                continue
            final = self._finish_if_done(h, _fstat(h.fd))
            if final is not None:
                yield final
            if key in self.harvesters:
                self._schedule(key)

    def _refresh(self) -> None:
        """Look at every file known now, for growth (a full scan)."""
        for h in list(self.harvesters.values()):
            if h.key not in self._active:
                self._look_open(h)
        for key in list(self._idle):
            self._look_idle(key, reschedule=False)

    def _look_open(self, h: Watcher) -> bool:
        """Has an open file at its end grown (or shrunk)? Then it is read again; True if not."""
        try:
            size = os.fstat(h.fd).st_size
        except OSError:
            return True
        if size == h.read_pos:
            return True
        h.size = size
        self._wake(h)
        return False

    def _look_idle(self, key: str, *, reschedule: bool = True) -> None:
        idle = self._idle.get(key)
        if idle is None:
            self._due.pop(key, None)
            return
        try:
            st: os.stat_result | None = os.stat(idle.path)
        except OSError:
            st = None
        if st is None or file_key(st) != key:  # gone from that name: the scan finds it anew
            del self._idle[key]
            self._due.pop(key, None)
            self._look_again(idle.path)
            return
        if st.st_size != idle.size:
            del self._idle[key]
            self._due.pop(key, None)
            if not self._consider(idle.path, key, idle.input, None):
                self._look_again(idle.path)
        elif reschedule:
            self._schedule(key)

    def _wake(self, h: Watcher) -> None:
        self._due.pop(h.key, None)
        self._at_end.pop(h.key, None)
        self._active[h.key] = None

    # -- reading ---------------------------------------------------------------------------------

    def poll(self, budget_bytes: int = 8 << 20) -> Iterator[Chunk]:
        """Yield what is new in the files that have something to read (a bounded amount each), look at
        the others on their schedule, and close finished ones.

        The globs are re-scanned on their schedule between reads, so a backlog cannot hide a file
        that sat under its name only briefly.
        """
        if not self._scanned:
            self.scan()
        yield from self._check(self._due_now())
        self._fill()
        done: set[str] = set()
        while True:
            todo = [key for key in self._active if key not in done]
            if not todo:
                self._fill()  # the files closed in this pass make room for those waiting: read them too
                todo = [key for key in self._active if key not in done]
                if not todo:
                    break
            for key in todo:
                done.add(key)
                h = self.harvesters.get(key)
                if h is None:
                    self._active.pop(key, None)
                    continue
                read = 0
                while read < budget_bytes and key in self.harvesters:
                    if self._scan_due():
                        self._scan(full=False)
                        self._fill()
                    chunk = self._read(h)
                    if chunk is None:
                        break
                    read += chunk.nbytes
                    yield chunk
                if key not in self.harvesters or read >= budget_bytes:
                    continue
                self._active.pop(key, None)
                if self.once and not (h.pending or h.skipping):
                    self._close(h)
                elif self.once:
                    final = self._finish_if_done(h, _fstat(h.fd))
                    if final is not None:
                        yield final
                else:
                    self._at_end[key] = None
                    self._schedule(key, grew=read > 0)
        self._scan_if_due()
        self._fill()
        self.checkpointer.tick()

    def _read(self, h: Watcher) -> Chunk | None:
        """The next block of complete lines of ``h``; None at its end (as far as last seen)."""
        if h.at_end:
            return None
        had_checks, fingerprinted = bool(h.state.checks), h.state.fingerprint_len
        for _ in range(2):
            got = h.read(self.config.read_buffer_bytes, self._max_line, self.counts)
            if got is not TRUNCATED_FILE:
                break
            self._next_generation(h)
        else:
            return None
        if got is None:
            return None
        assert isinstance(got, Chunk)
        self.registry.changed(h.key, fingerprint=h.state.fingerprint_len != fingerprinted)
        if not had_checks and h.state.checks:
            self._unregistered = True
        if self._unregistered:
            self._unregistered = False
            self.checkpointer.register()
        return got

    def _next_generation(self, h: Watcher) -> None:
        """The file was truncated: retire what was read of it and start again at 0."""
        log.info("%s was truncated at offset %d: reading its new content from 0", h.path, h.read_pos)
        self._retire(h.key, h.state, h.line_start)
        try:
            head = os.pread(h.fd, FINGERPRINT_MAX, 0)
        except OSError:
            head = b""
        h.state = new_state(h.key, h.path, head, 0, h.state.generation + 1)
        with contextlib.suppress(OSError):
            first_check(h.state, h.fd, 0, self.config.read_buffer_bytes)
        self.registry.put(h.key, h.state)
        self._unregistered = True
        h.read_pos = h.line_start = 0
        h.pending, h.skipping = b"", False

    def _finish_if_done(self, h: Watcher, st: os.stat_result | None) -> Chunk | None:
        """At its end: close a file that was deleted, idle for ``close_inactive``, or read in one-shot mode.

        A renamed file is not done: the application may still be writing to it. An unterminated last
        line is shipped (tagged ``_partial``) only when the file is finished (see the module docstring).
        """
        deleted = st is None or st.st_nlink == 0
        idle = time.monotonic() - h.last_growth >= self.config.close_inactive
        if not (deleted or idle or self.once):
            return None
        inactive = idle or (st is not None and time.time() - st.st_mtime >= self.config.close_inactive)
        final = None
        if (h.pending or h.skipping) and (deleted or inactive):
            if not (self.once or deleted or self._moved(h)):
                return None  # its writer may still end the line: it is read whole when it does
            final = h.unterminated(self.counts)
            self.registry.changed(h.key)
            # Written before the fragment can reach a sink: after a crash, the line is cut where it was.
            self.checkpointer.register()
        self._close(h)
        return final

    def _moved(self, h: Watcher) -> bool:
        """Has the file left the name it was found under (renamed away, replaced)?"""
        if h.moved:
            return True
        try:
            return file_key(os.stat(h.path)) != h.key
        except OSError:
            return True

    def _close(self, h: Watcher) -> None:
        """Release the file; remember how far it was read, so only growth reopens it."""
        self._resume[h.key] = _Resume(h.state.source_id, h.line_start, h.read_pos)
        h.close()
        self.harvesters.pop(h.key, None)
        self._active.pop(h.key, None)
        self._at_end.pop(h.key, None)
        self._due.pop(h.key, None)
        self._track_idle(h.key, h.path, h.input, h.read_pos)

    # -- reporting -------------------------------------------------------------------------------

    def bytes_behind(self) -> dict[str, int]:
        """Per input (a configured glob), bytes written but not read yet, as last seen: what the
        ``logferry_file_bytes_behind`` gauge shows, one series per input however many files rotate."""
        behind = dict.fromkeys(self.config.paths, 0)
        inputs = self.config.paths
        for h in self.harvesters.values():
            if h.input < len(inputs):
                behind[inputs[h.input]] += max(0, h.size - h.read_pos)
        for found, size in self._waiting.values():
            if found.input < len(inputs):
                behind[inputs[found.input]] += size
        return behind

    @property
    def files_open(self) -> int:
        return len(self.harvesters)

    def notes(self) -> list[str]:
        """What a one-shot run should tell its user beside its counts: files skipped as already read
        (``run`` follows them all the same: nothing to say)."""
        if not self.once or not self.already_read:
            return []
        where = self.registry.destination.name if self.registry.destination else "this registry"
        names = ", ".join(path for path, _ in self.already_read[:3])
        more = f" and {len(self.already_read) - 3:,} more" if len(self.already_read) > 3 else ""
        return [
            f"{len(self.already_read):,} file(s) already read to their end for {where}, skipped: {names}{more} "
            f"(positions in {self.registry.path})"
        ]

    # -- the pipeline's side ---------------------------------------------------------------------

    def ack(self, positions: dict[Position, int]) -> None:
        """The sink accepted everything up to these positions: the registry moves there (written on
        its interval)."""
        if positions:
            self.checkpointer.ack(positions)

    def rereads(self, position: Position) -> tuple[int, int] | None:
        """The offsets this run reads ``position``'s file generation between: from what the registry
        had acknowledged of it (or 0) to the file's size when found, once the first scan has looked at
        the files; None for a generation this run does not read (deleted, truncated away, out of the
        globs, or read to its end already): a sink keeps what it stored of it.

        A file that waits for a descriptor is read from its acknowledged offset once opened."""
        if not self._started:
            self.scan()
        began = self._began.get(position[1])
        if began is not None:
            return began
        key = position[0]
        waiting, state = self._waiting.get(key), self.registry.get(key)
        if waiting is not None and state is not None and state.source_id == position[1]:
            return (self._read_to(key, state), waiting[1])
        return None

    def done(self) -> bool:
        """One-shot mode: every matched file was read to its end and closed."""
        return not self.harvesters and not self._waiting

    def close(self) -> None:
        self._dropped.detach()
        if self._pinner is not None:
            self._pinner.close()
        for h in list(self.harvesters.values()):
            self._close(h)
        self.checkpointer.close()

    def _unseen(self, key: str) -> bool:
        """A file this source has never opened nor recorded (read from the pinner's thread)."""
        return not (
            key in self.harvesters
            or key in self.registry.files
            or key in self._resume
            or key in self._skipped
            or key in self._idle
            or key in self._waiting
        )


def _fstat(fd: int) -> os.stat_result | None:
    try:
        return os.fstat(fd)
    except OSError:
        return None


class _Pinner:
    """Opens files new to the globs every ``scan_frequency``, on its own thread, while the reading
    thread is held.

    The reading thread scans between reads, but it can be held for seconds by a slow sink (backpressure,
    retries). A file that sat under its name only briefly is opened here all the same; the held
    descriptor keeps its content readable after a rename out of the globs or a delete, and the next
    scan takes it over. It scans only when the reading thread has not scanned for two of its periods,
    takes no more descriptors than the source has room for, and holds the source weakly: it ends with
    the source or with ``close``.
    """

    def __init__(self, source: FileSource) -> None:
        self._source = weakref.ref(source)
        self._interval = source.config.scan_frequency
        self._paths = PathsProvider(source.config.paths, source.config.exclude)
        self._lock = threading.Lock()
        self._pinned: dict[str, tuple[str, BinaryIO]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="file-pinner", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            source = self._source()
            if source is None:
                return
            try:
                if time.monotonic() - source._last_scan >= 2 * self._interval:
                    self._pin_new(source)
            except Exception:  # noqa: BLE001 - a failed pass is retried next time; the reading thread scans too
                log.exception("pinning new files failed")
            del source

    def _pin_new(self, source: FileSource) -> None:
        ignore_older, now = source.config.ignore_older, time.time()
        for path, entry in self._paths.scan().items():
            key = entry.key
            if key in self._pinned or not source._unseen(key):
                continue
            if len(source.harvesters) + self.count() >= source.limit:
                return
            try:
                file = open(path, "rb", buffering=0)  # noqa: SIM115 - handed to the source, which closes it
                fst = os.fstat(file.fileno())
            except OSError:
                continue
            if file_key(fst) != key or fst.st_size == 0 or (ignore_older and now - fst.st_mtime > ignore_older):
                file.close()
                continue
            with self._lock:
                self._pinned[key] = (path, file)

    def count(self) -> int:
        return len(self._pinned)

    def take(self) -> dict[str, tuple[str, BinaryIO]]:
        with self._lock:
            pinned, self._pinned = self._pinned, {}
        return pinned

    def close(self) -> None:
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
        for _, file in self.take().values():
            file.close()
