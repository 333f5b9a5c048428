"""The file source: follow globs, read each complete line once, survive rotation and restarts.

Identity. A file is known by ``dev:ino`` plus a fingerprint of its first bytes (up to 1 KiB, as
Filebeat; it grows with a young file). A known entry is resumed only when the fingerprint matches and
the file is at least as long as the offset; an entry whose offset lies beyond a matching file is a
mismatched registry (warned, resumed at the end, nothing re-read); a changed fingerprint is a new
generation (truncated while we were away, or a reused inode) read from 0.

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
its retired generations (logged).

Rotation by copytruncate: every read checks size and fingerprint; a file shorter than what was read,
or whose first bytes changed, starts a new generation at 0 and drops the unfinished line. The old
generation is retired in the registry: a copy of it (a new file with its first bytes and its checked
bytes, above) continues at the offset already read, with the old source id, so its event ids are those
the original would have had.

Unterminated last line: it waits for its newline. It is shipped, tagged ``_partial``, only when the
file can be considered finished: deleted, or not grown for ``close_inactive`` (``run``: observed;
one-shot ``ingest``: by its modification time). The offset then moves past it and the cut is
remembered (``cut_at``): if the writer later completes the line, the rest is shipped once, also
tagged ``_partial``; nothing is shipped twice. On SIGTERM an unterminated line stays ahead of the
registry and is read again by the next run.

``start_at = "end"`` applies to the files found by the first scan; a file appearing later is new
content (a rotation) and is read from its start, as Vector does.

Binary and compressed files (a NUL byte or a compression magic in the first block) are skipped with
a warning and counted by reason in ``logferry_files_skipped``.

Lines are yielded in chunks with the offset up to which they are complete; the registry moves there
only after the sink acknowledged them.
"""

from __future__ import annotations

import contextlib
import fnmatch
import glob
import hashlib
import logging
import os
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from core import metrics
from core.chunk import Chunk, Lines, Position, file_event
from core.keys import RAW, SOURCE_ID
from core.outcomes import TRUNCATED, EventCounts
from core.tags import TRUNCATED_TAG
from ingest.config import FileInputConfig
from ingest.registry import RETIRED_PREFIX, FileState, Registry

log = logging.getLogger("logferry.file_source")

FINGERPRINT_MAX = 1024
CHECKS_RECENT = 3  # the last reads' ends: a copy taken between two reads is verified near its end
CHECKS_MAX = 8  # those and the first past each power of two below them: the registry stays small
PARTIAL_TAG = "_partial"
COMPRESSION_MAGIC = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"\xfd7zXZ\x00", b"BZh")


def file_key(st: os.stat_result) -> str:
    """A file's identity ``dev:ino``, the registry's key: it survives renames, not copies."""
    return f"{st.st_dev}:{st.st_ino}"


def digest(head: bytes) -> str:
    return hashlib.blake2b(head, digest_size=8).hexdigest()


EMPTY_DIGEST = digest(b"")


def unreadable_reason(head: bytes) -> str | None:
    """Why a file whose first block is ``head`` is not a text log: ``compressed``, ``binary`` or None."""
    if head.startswith(COMPRESSION_MAGIC):
        return "compressed"
    if b"\0" in head:
        return "binary"
    return None


@dataclass
class Harvester:
    """One open file being read line by line, by descriptor (``fd``), so a rename or delete does not matter."""

    key: str
    path: str
    file: BinaryIO
    fd: int
    state: FileState
    read_pos: int
    line_start: int
    pending: bytes = b""
    skipping: bool = False
    last_growth: float = field(default_factory=time.monotonic)

    @property
    def position(self) -> Position:
        return (self.key, self.state.source_id)


class _Defer:
    """Not now: the file is looked at again at the next scan."""


DEFER = _Defer()


@dataclass
class _Resume:
    """How far this process read a file it closed: past the registry while batches are in flight."""

    source_id: str
    offset: int
    size_seen: int


class FileSource:
    """Follows the configured globs; ``poll`` yields chunks of new complete lines."""

    def __init__(self, config: FileInputConfig, registry: Registry, *, once: bool = False) -> None:
        self.config = config
        self.registry = registry
        self.once = once
        self.counts = EventCounts()
        self.harvesters: dict[str, Harvester] = {}
        self._max_line = config.max_line_bytes
        self._last_scan = 0.0
        self._resume: dict[str, _Resume] = {}
        self._skipped: dict[str, int] = {}
        self._head_only: set[str] = set()  # states without checks, already logged
        self._started = False  # after the first scan, new files are rotations: read from their start
        self._began: dict[str, tuple[int, int]] = {}  # per source id: where this run began reading, and the size
        self._pinner = None if once else _Pinner(self)

    # -- discovery -------------------------------------------------------------------------------

    def _matches(self) -> dict[str, os.stat_result]:
        found: dict[str, os.stat_result] = {}
        for pattern in self.config.paths:
            for path in glob.glob(os.path.expanduser(pattern), recursive=True):
                if any(fnmatch.fnmatch(path, ex) for ex in self.config.exclude):
                    continue
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                if not os.path.isfile(path):
                    continue
                found[path] = st
        return found

    def _scan_if_due(self) -> None:
        if time.monotonic() - self._last_scan >= self.config.scan_frequency:
            self.scan()

    def scan(self) -> None:
        """Open files that appeared, grew, were truncated or were renamed into the globs.

        Files the pinner opened meanwhile are taken over, even if they left the globs since.
        """
        self._last_scan = time.monotonic()
        pinned = self._pinner.take() if self._pinner is not None else {}
        now = time.time()
        for path, st in sorted(self._matches().items()):
            key = file_key(st)
            _, file = pinned.pop(key, (path, None))
            if self._wanted(path, key, st, now):
                self._open(path, key, self.registry.get(key), file)
            elif file is not None:
                file.close()
        for key, (path, file) in pinned.items():  # renamed out of the globs, or deleted, since pinned
            if key in self.harvesters:
                file.close()
            else:
                self._open(path, key, self.registry.get(key), file)
        self._started = True

    def _wanted(self, path: str, key: str, st: os.stat_result, now: float) -> bool:
        """Should a matched file be opened: not open yet, not skipped, with something new to read."""
        open_h = self.harvesters.get(key)
        if open_h is not None:
            if open_h.path != path:
                open_h.path = open_h.state.path = path
            return False
        if st.st_size == 0 or self._skipped.get(key, -1) >= 0 and st.st_size >= self._skipped[key]:
            return False
        known = self.registry.get(key)
        if known is None and self.config.ignore_older and now - st.st_mtime > self.config.ignore_older:
            return False
        resume = self._resume.get(key)
        if known is not None and resume is not None and resume.source_id == known.source_id:
            return st.st_size != resume.size_seen
        return not (known is not None and known.path == path and st.st_size == known.offset)

    def _open(self, path: str, key: str, known: FileState | None, file: BinaryIO | None = None) -> None:
        if file is None:
            try:
                file = open(path, "rb", buffering=0)  # noqa: SIM115 - held open across polls, closed in _close
            except OSError:
                return
        try:
            st = os.fstat(file.fileno())
            head = os.pread(file.fileno(), FINGERPRINT_MAX, 0)
        except OSError:
            file.close()
            return
        if file_key(st) != key or not head:
            file.close()
            return
        reason = unreadable_reason(head)
        if reason is not None:
            file.close()
            self._skipped[key] = st.st_size
            metrics.FILES_SKIPPED.labels(reason).inc()
            log.warning("skipping %s: a %s file, not text lines (first bytes %r)", path, reason, head[:8])
            return
        found = self._identify(path, key, st.st_size, head, known, file.fileno())
        if found is None:
            file.close()
            return
        state, start = found
        if start > 0 and not state.checks:  # skipped (start_at=end) or read by an older version
            with contextlib.suppress(OSError):
                _checkpoint(state, start, _block_before(file.fileno(), start))
        self.registry.put(key, state)
        self._began.setdefault(state.source_id, (start, st.st_size))
        self.harvesters[key] = Harvester(key, path, file, file.fileno(), state, start, start)

    def _identify(
        self, path: str, key: str, size: int, head: bytes, known: FileState | None, fd: int
    ) -> tuple[FileState, int] | None:
        """The state to continue and the offset to read from; None to leave the file alone for now."""
        if known is not None and _head_matches(head, known):
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
            return _new_state(key, path, head, 0, known.generation + 1), 0
        if known is not None:
            self._retire(key, known, self._read_to(key, known))
        copy = self._copy_of(key, head, size, fd)
        if isinstance(copy, _Defer):
            return None
        if copy is not None:
            return copy
        from_start = self.config.start_at == "beginning" or known is not None or self._started
        start = 0 if from_start else size
        generation = known.generation + 1 if known is not None else 0
        return _new_state(key, path, head, start, generation), start

    def _copy_of(self, key: str, head: bytes, size: int, fd: int) -> tuple[FileState, int] | _Defer | None:
        """A new file whose content is that of a known one: a copy (copytruncate, cp + rm).

        It continues an old generation at the offset already read, with that generation's source
        id; a copy of a file still followed at its path is not read (``DEFER``: looked at again next
        scan). A matching head is only the candidate test; see the module docstring for the proof.
        """
        for other_key, other in list(self.registry.files.items()):
            if other_key == key or other.fingerprint_len == 0 or not _head_matches(head, other):
                continue
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
        of the generation before: it is looked at again once the harvester retired that generation, or,
        if the original is not open, judged by that generation's checks at once.
        """
        h = self.harvesters.get(other_key)
        original: BinaryIO | None = None
        try:
            if h is not None:
                other_fd, read_to = h.fd, h.read_pos
            else:
                try:
                    original = open(other.path, "rb", buffering=0)  # noqa: SIM115 - closed below
                except OSError:
                    return None
                other_fd, read_to = original.fileno(), self._read_to(other_key, other)
                st = os.fstat(other_fd)
                if file_key(st) != other_key:
                    return None
            try:
                other_size = os.fstat(other_fd).st_size
                gone = other_size < read_to or not _head_matches(os.pread(other_fd, FINGERPRINT_MAX, 0), other)
                if gone:  # truncated since read: the copy is judged against that generation's checks
                    return True if h is not None else None  # the harvester retires it first
                if size > other_size:
                    return False
                block = _block_before(fd, size)
                return bool(block) and os.pread(other_fd, len(block), size - len(block)) == block
            except OSError:
                return h is not None  # the original's descriptor failed: decide at the next scan
        finally:
            if original is not None:
                original.close()

    def _has_checked_bytes(self, other_key: str, other: FileState, fd: int, size: int) -> bool:
        """Does the file on ``fd`` have the bytes of ``other``'s last check it is long enough for?"""
        if other.checks is None:
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
        usable = [check for check in other.checks if check[0] <= size]
        if not usable:
            return False
        end, hashed = usable[-1]
        if end != other.checks[-1][0] and 2 * end < size:
            return False  # most of the file lies past the last check it has
        try:
            return digest(_block_before(fd, end)) == hashed
        except OSError:
            return False

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

    # -- reading ---------------------------------------------------------------------------------

    def poll(self, budget_bytes: int = 8 << 20) -> Iterator[Chunk]:
        """Yield what is new in every open file (a bounded amount each), then close finished files.

        The globs are re-scanned on their schedule between reads, so a backlog cannot hide a file
        that sat under its name only briefly.
        """
        if not self.harvesters:
            self.scan()
        for h in list(self.harvesters.values()):
            read = 0
            while read < budget_bytes and h.key in self.harvesters:
                self._scan_if_due()
                chunk = self._read(h)
                if chunk is None:
                    break
                read += chunk.nbytes
                yield chunk
            if read == 0 and h.key in self.harvesters:
                final = self._finish_if_done(h)
                if final is not None:
                    yield final
        self._scan_if_due()

    def _read(self, h: Harvester) -> Chunk | None:
        """The complete lines of the next block; None at the end of the file.

        Size and first bytes are checked after every read: a file truncated (or rewritten) before or
        during the read starts its next generation at 0 and the block is dropped, so old and new
        content are never spliced into one line.
        """
        for _ in range(2):
            data = os.pread(h.fd, self.config.read_buffer_bytes, h.read_pos)
            if self._unchanged(h, len(data)):
                break
            self._next_generation(h)
        else:
            return None
        if not data:
            return None
        if h.read_pos == 0 and h.state.source_id == _source_id(h.key, EMPTY_DIGEST, h.state.generation):
            # Begun empty (truncated, nothing written yet): an id from no bytes would be the same for every
            # such generation, and generation numbers start again when a registry entry is gone.
            h.state.source_id = _source_id(h.key, digest(data[:FINGERPRINT_MAX]), h.state.generation)
        h.last_growth = time.monotonic()
        h.read_pos += len(data)
        continued = h.state.cut_at == h.line_start and not h.skipping
        read_from, line_from = h.read_pos - len(data), h.line_start
        head: dict[str, Any] | None = None
        if h.skipping:
            nl = data.find(b"\n")
            if nl < 0:
                return Chunk(h.position, [], h.line_start, len(data))
            head = self._event(h, h.pending, h.line_start, (TRUNCATED_TAG,))
            h.line_start = h.read_pos - len(data) + nl + 1
            h.pending, h.skipping = b"", False
            data = data[nl + 1 :]
        buf = h.pending + data if h.pending else data
        parts = buf.split(b"\n")
        tail = parts.pop()
        lines = Lines(parts, h.state.source_id, h.path, h.line_start)
        max_line = self._max_line
        if len(buf) > max_line and parts and max(map(len, parts)) > max_line:
            for i, line in enumerate(parts):
                if len(line) > max_line:
                    lines.special[i] = self._event(h, line[:max_line], lines.offset(i), (TRUNCATED_TAG,))
        if continued and parts:
            rest = lines.event(0)
            rest.setdefault("tags", []).append(PARTIAL_TAG)
            lines.special[0] = rest
        offset = h.line_start + len(buf) - len(tail)
        h.line_start = offset
        if len(tail) > max_line:
            h.pending, h.skipping = tail[:max_line], True
        else:
            h.pending = tail
        if offset > line_from:
            low = max(0, offset - FINGERPRINT_MAX)
            block = data[low - read_from : offset - read_from] if low >= read_from else _block_before(h.fd, offset)
            first = not h.state.checks
            _checkpoint(h.state, offset, block)
            if first and h.state.checks:
                # Persisted before its first events can reach a sink: if logferry is killed after they
                # were written and the file is copied and truncated before the restart, the registry
                # knows this generation, and the copy replays it with the same ids instead of new ones.
                self.registry.save()
        if head is not None:  # the end of a line cut across reads: rare, as plain events
            return Chunk(h.position, [head, *lines.events()], h.line_start, len(data))
        return Chunk.of_lines(h.position, lines, h.line_start, len(data))

    def _unchanged(self, h: Harvester, got: int) -> bool:
        """Is this still the generation being read: as long as read so far, with the same first bytes?

        While the fingerprint covers less than 1 KiB it grows with the file.
        """
        try:
            size = os.fstat(h.fd).st_size
            if size < h.read_pos + got:
                return False
            if not got:
                return True
            head = os.pread(h.fd, FINGERPRINT_MAX, 0)
        except OSError:
            return True
        state = h.state
        if not _head_matches(head, state):
            return False
        if state.fingerprint_len < len(head):
            state.fingerprint, state.fingerprint_len = digest(head), len(head)
        return True

    def _next_generation(self, h: Harvester) -> None:
        """The file was truncated: retire what was read of it and start again at 0."""
        log.info("%s was truncated at offset %d: reading its new content from 0", h.path, h.read_pos)
        self._retire(h.key, h.state, h.line_start)
        try:
            head = os.pread(h.fd, FINGERPRINT_MAX, 0)
        except OSError:
            head = b""
        h.state = _new_state(h.key, h.path, head, 0, h.state.generation + 1)
        self.registry.put(h.key, h.state)
        h.read_pos = h.line_start = 0
        h.pending, h.skipping = b"", False

    def _event(self, h: Harvester, line: bytes, offset: int, tags: tuple[str, ...] = ()) -> dict[str, Any]:
        """A line read apart from the plain ones (cut or partial), counted when it was cut."""
        event = file_event(line, h.state.source_id, h.path, offset)
        if tags:
            event["tags"] = list(tags)
            if TRUNCATED_TAG in tags:
                self.counts.add(TRUNCATED, "max_line_bytes")
        return event

    def _finish_if_done(self, h: Harvester) -> Chunk | None:
        """At EOF: close a file that was deleted, idle for ``close_inactive``, or read in one-shot mode.

        A renamed file is not done: the application may still be writing to it. An unterminated last
        line is shipped (tagged ``_partial``) only when the file is finished: deleted or inactive.
        """
        try:
            st = os.fstat(h.fd)
        except OSError:
            st = None
        deleted = st is None or st.st_nlink == 0
        idle = time.monotonic() - h.last_growth >= self.config.close_inactive
        if not (deleted or idle or self.once):
            return None
        inactive = idle or (st is not None and time.time() - st.st_mtime >= self.config.close_inactive)
        final = None
        if (h.pending or h.skipping) and (deleted or inactive):
            tags = (PARTIAL_TAG, TRUNCATED_TAG) if h.skipping else (PARTIAL_TAG,)
            final = Chunk(h.position, [self._event(h, h.pending, h.line_start, tags)], h.read_pos, 0)
            h.state.cut_at = h.line_start = h.read_pos
            h.pending, h.skipping = b"", False
        self._close(h)
        return final

    def _close(self, h: Harvester) -> None:
        """Release the file; remember how far it was read, so only growth reopens it."""
        self._resume[h.key] = _Resume(h.state.source_id, h.line_start, h.read_pos)
        h.file.close()
        self.harvesters.pop(h.key, None)

    def bytes_behind(self) -> dict[str, int]:
        """Per open file, bytes written but not yet read: how far the source lags."""
        behind = {}
        for h in self.harvesters.values():
            try:
                behind[h.path] = max(0, os.fstat(h.fd).st_size - h.read_pos)
            except OSError:
                continue
        return behind

    def ack(self, positions: dict[Position, int]) -> None:
        """The sink accepted everything up to these positions: persist them."""
        if positions:
            self.registry.advance(positions)
            self.registry.save()

    def rereads(self, position: Position) -> tuple[int, int] | None:
        """The offsets this run reads ``position``'s file generation between: from what the registry
        had acknowledged of it (or 0) to the file's size when opened, once the first scan has opened
        the files; None for a generation this run does not read (deleted, truncated away, out of the
        globs): a sink keeps what it stored of it."""
        if not self._started:
            self.scan()
        return self._began.get(position[1])

    def done(self) -> bool:
        """One-shot mode: every matched file was read to its end and closed."""
        return not self.harvesters

    def close(self) -> None:
        if self._pinner is not None:
            self._pinner.close()
        for h in list(self.harvesters.values()):
            self._close(h)

    def _unseen(self, key: str) -> bool:
        """A file this source has never opened nor recorded (read from the pinner's thread)."""
        return not (key in self.harvesters or key in self.registry.files or key in self._resume or key in self._skipped)


class _Pinner:
    """Opens files new to the globs every ``scan_frequency``, on its own thread.

    The reading thread scans between reads, but it can be held for seconds by a slow sink (backpressure,
    retries). A file that sat under its name only briefly is opened here all the same; the held
    descriptor keeps its content readable after a rename out of the globs or a delete, and the next
    ``scan`` takes it over. The thread holds the source weakly and ends with it or with ``close``.
    """

    def __init__(self, source: FileSource) -> None:
        self._source = weakref.ref(source)
        self._interval = source.config.scan_frequency
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
                self._pin_new(source)
            except Exception:  # noqa: BLE001 - a failed pass is retried next time; the reading thread scans too
                log.exception("pinning new files failed")
            del source

    def _pin_new(self, source: FileSource) -> None:
        ignore_older, now = source.config.ignore_older, time.time()
        for path, st in source._matches().items():
            key = file_key(st)
            if key in self._pinned or not source._unseen(key) or st.st_size == 0:
                continue
            if ignore_older and now - st.st_mtime > ignore_older:
                continue
            try:
                file = open(path, "rb", buffering=0)  # noqa: SIM115 - handed to the source, which closes it
                fst = os.fstat(file.fileno())
            except OSError:
                continue
            if file_key(fst) != key:
                file.close()
                continue
            with self._lock:
                self._pinned[key] = (path, file)

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


def _head_matches(head: bytes, state: FileState) -> bool:
    """Does a file starting with ``head`` start with the fingerprinted bytes of ``state``?"""
    n = state.fingerprint_len
    return len(head) >= n and digest(head[:n]) == state.fingerprint


def _new_state(key: str, path: str, head: bytes, offset: int, generation: int) -> FileState:
    """A generation's state; its source id (hence its event ids) is fixed from its first bytes now, or,
    when it is still empty, at its first read (see ``FileSource._read``)."""
    fp = digest(head)
    return FileState(path, offset, _source_id(key, fp, generation), fp, len(head), generation, time.time(), checks=[])


def _source_id(key: str, fingerprint: str, generation: int) -> str:
    return f"{key}:{fingerprint}" + (f":g{generation}" if generation else "")


def _block_before(fd: int, end: int) -> bytes:
    """The up to ``FINGERPRINT_MAX`` bytes of a file that end at ``end``."""
    low = max(0, end - FINGERPRINT_MAX)
    return os.pread(fd, end - low, low)


def _checkpoint(state: FileState, end: int, block: bytes) -> None:
    """Record the hash of ``block`` (ending at ``end``, a line boundary) as the state's latest check.

    The checks of the last three reads stay, so a copy taken between two reads of the original is
    verified near its end; of older ones, the first past each power of two stays, so a copy a little
    shorter than what was read is verified past half its length (a file shorter than the oldest check
    kept is no copy: it is read whole).
    """
    if len(block) < min(end, FINGERPRINT_MAX):
        return  # the file changed under the read; the truncation check will see it
    checks = [*(state.checks or ()), (end, digest(block))]
    kept: list[tuple[int, str]] = []
    for older in checks[:-CHECKS_RECENT]:
        if not kept or kept[-1][0].bit_length() != older[0].bit_length():
            kept.append(older)
    state.checks = (kept + checks[-CHECKS_RECENT:])[-CHECKS_MAX:]


class StdinSource:
    """``logferry ingest -``: lines from standard input; the end of input ends the stream.

    An unterminated line is held only up to ``max_line_bytes`` (the rest is counted, not kept), so a
    stream without newlines cannot exhaust memory; the line is cut and tagged ``_truncated``.
    """

    def __init__(self, stream: BinaryIO, max_line_bytes: int, read_bytes: int = 1 << 20) -> None:
        self.stream = stream
        self.max_line = max_line_bytes
        self.counts = EventCounts()
        self.read_bytes = read_bytes
        self.offset = 0
        self.pending = b""
        self.pending_len = 0
        self.finished = False

    def poll(self, budget_bytes: int = 8 << 20) -> Iterator[Chunk]:
        read = 0
        while not self.finished and read < budget_bytes:
            data = self.stream.read(self.read_bytes)
            if not data:
                self.finished = True
                if self.pending_len:
                    yield Chunk(("stdin", "stdin"), [self._event(self.pending, self.offset, self.pending_len)], 0, 0)
                    self.pending, self.pending_len = b"", 0
                return
            read += len(data)
            parts = data.split(b"\n")
            tail = parts.pop()
            events = []
            if parts and self.pending_len:
                first = parts.pop(0)
                events.append(self._event(self._held(first), self.offset, self.pending_len + len(first)))
                self.offset += self.pending_len + len(first) + 1
                self.pending, self.pending_len = b"", 0
            for line in parts:
                events.append(self._event(line, self.offset, len(line)))
                self.offset += len(line) + 1
            self.pending, self.pending_len = self._held(tail), self.pending_len + len(tail)
            yield Chunk(("stdin", "stdin"), events, 0, len(data))

    def _held(self, more: bytes) -> bytes:
        """The pending line with ``more`` appended, kept to at most ``max_line`` bytes."""
        room = self.max_line - len(self.pending)
        return self.pending + more[:room] if room > 0 else self.pending

    def _event(self, line: bytes, offset: int, length: int) -> dict[str, Any]:
        # The id comes from the content and the position: a replay of the same stream coincides, two
        # streams do not overwrite each other, and two equal lines of one stream stay two events.
        kept = line[: self.max_line]
        content = line if length == len(line) else kept + b"\0%d" % length
        source_id = "stdin:" + hashlib.blake2b(content, digest_size=8).hexdigest()
        event: dict[str, Any] = {RAW: kept, SOURCE_ID: source_id, "log.offset": offset}
        if length > self.max_line:
            event["tags"] = [TRUNCATED_TAG]
            self.counts.add(TRUNCATED, "max_line_bytes")
        return event

    def bytes_behind(self) -> dict[str, int]:
        return {}

    def ack(self, positions: dict[Position, int]) -> None:
        """Standard input cannot be re-read: there is nothing to persist."""

    def rereads(self, position: Position) -> tuple[int, int] | None:
        """Standard input is never read again: a sink keeps everything it stored."""
        return None

    def done(self) -> bool:
        return self.finished

    def close(self) -> None:
        return None
