"""The file source: follow globs, read each complete line once, survive rotation and restarts.

A file is known by its identity ``dev:ino`` plus a fingerprint of its first line, so a rename keeps
its offset and a reused inode after a delete is noticed. Rotation by rename: the open file is read to
its end, then closed, and the new file is read from 0. Rotation by copytruncate: a size below the read
position, or a changed first line, restarts the file from 0 in a new generation. Lines are yielded in
chunks with the offset up to which they are complete; the registry moves there only after the sink
acknowledged them.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ingest.config import FileInputConfig
from ingest.document import RAW, SOURCE_ID
from ingest.registry import FileState, Registry

FINGERPRINT_MAX = 1024
TRUNCATED_TAG = "_truncated"

PositionKey = tuple[str, str]


@dataclass
class Chunk:
    """Complete lines read from one source, as initial events, and the offset they reach."""

    position: PositionKey
    events: list[dict[str, Any]]
    end_offset: int
    nbytes: int


def fingerprint(fd: int) -> tuple[str, int] | None:
    """Hash of the first line (up to 1 KiB): stable for an append-only file, None until it exists."""
    head = os.pread(fd, FINGERPRINT_MAX, 0)
    nl = head.find(b"\n")
    if nl >= 0:
        head = head[: nl + 1]
    elif len(head) < FINGERPRINT_MAX:
        return None
    return hashlib.blake2b(head, digest_size=8).hexdigest(), len(head)


@dataclass
class Harvester:
    """One open file being read line by line."""

    key: str
    path: str
    file: BinaryIO
    state: FileState
    read_pos: int
    line_start: int
    pending: bytes = b""
    skipping: bool = False
    last_data: float = field(default_factory=time.monotonic)

    @property
    def position(self) -> PositionKey:
        return (self.key, self.state.source_id)


class FileSource:
    """Follows the configured globs; ``poll`` yields chunks of new complete lines."""

    def __init__(self, config: FileInputConfig, registry: Registry, *, once: bool = False) -> None:
        self.config = config
        self.registry = registry
        self.once = once
        self.harvesters: dict[str, Harvester] = {}
        self._max_line = config.max_line_bytes
        self._last_scan = 0.0
        self._resume: dict[str, tuple[str, int]] = {}

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

    def scan(self) -> None:
        """Open files that appeared, grew, were truncated or were renamed into the globs."""
        self._last_scan = time.monotonic()
        now = time.time()
        for path, st in sorted(self._matches().items()):
            key = f"{st.st_dev}:{st.st_ino}"
            open_h = self.harvesters.get(key)
            if open_h is not None:
                if open_h.path != path:
                    open_h.path = open_h.state.path = path
                continue
            known = self.registry.get(key)
            if known is None and self.config.ignore_older and now - st.st_mtime > self.config.ignore_older:
                continue
            if known is not None and known.path == path and st.st_size == self._read_to(key, known):
                continue
            self._open(path, key, st, known)

    def _read_to(self, key: str, known: FileState) -> int:
        """How far this process has read a file: past the registry while batches are in flight."""
        source_id, offset = self._resume.get(key, (known.source_id, known.offset))
        return offset if source_id == known.source_id else known.offset

    def _open(self, path: str, key: str, st: os.stat_result, known: FileState | None) -> None:
        try:
            f = open(path, "rb")  # noqa: SIM115 - held open across polls, closed in _close
        except OSError:
            return
        fst = os.fstat(f.fileno())
        if f"{fst.st_dev}:{fst.st_ino}" != key:
            f.close()
            return
        fp = fingerprint(f.fileno())
        if fp is None:
            f.close()
            return
        digest, fp_len = fp
        if known is not None and self._same_file(f, known):
            state = known
            state.path = path
            if fst.st_size < state.offset:
                state = self._new_state(key, path, digest, fp_len, 0, state.generation + 1)
        else:
            start = 0 if self.config.start_at == "beginning" or known is not None else fst.st_size
            state = self._new_state(key, path, digest, fp_len, start, 0)
        self.registry.put(key, state)
        start = self._read_to(key, state)
        f.seek(start)
        self.harvesters[key] = Harvester(key, path, f, state, start, start)

    @staticmethod
    def _same_file(f: BinaryIO, known: FileState) -> bool:
        head = os.pread(f.fileno(), known.fingerprint_len, 0)
        return (
            len(head) == known.fingerprint_len and hashlib.blake2b(head, digest_size=8).hexdigest() == known.fingerprint
        )

    @staticmethod
    def _new_state(key: str, path: str, digest: str, fp_len: int, offset: int, generation: int) -> FileState:
        source_id = f"{key}:{digest}" + (f":g{generation}" if generation else "")
        return FileState(path, offset, source_id, digest, fp_len, generation, time.time())

    # -- reading ---------------------------------------------------------------------------------

    def poll(self, budget_bytes: int = 8 << 20) -> Iterator[Chunk]:
        """Yield what is new in every open file (a bounded amount each), then close finished files."""
        if not self.harvesters or time.monotonic() - self._last_scan >= self.config.scan_frequency:
            self.scan()
        for h in list(self.harvesters.values()):
            self._check_truncated(h)
            read = 0
            while read < budget_bytes:
                chunk = self._read(h)
                if chunk is None:
                    break
                read += chunk.nbytes
                yield chunk
            if read == 0:
                final = self._finish_if_done(h)
                if final is not None:
                    yield final

    def _check_truncated(self, h: Harvester) -> None:
        try:
            st = os.fstat(h.file.fileno())
        except OSError:
            return
        truncated = st.st_size < h.read_pos
        if not truncated and st.st_size > h.read_pos and h.read_pos > 0:
            truncated = not self._same_file(h.file, h.state)
        if truncated:
            fp = fingerprint(h.file.fileno())
            if fp is None:
                return
            h.state = self._new_state(h.key, h.path, fp[0], fp[1], 0, h.state.generation + 1)
            self.registry.put(h.key, h.state)
            h.file.seek(0)
            h.read_pos = h.line_start = 0
            h.pending, h.skipping = b"", False

    def _read(self, h: Harvester) -> Chunk | None:
        data = h.file.read(self.config.read_buffer_bytes)
        if not data:
            return None
        h.last_data = time.monotonic()
        h.read_pos += len(data)
        if h.skipping:
            nl = data.find(b"\n")
            if nl < 0:
                return Chunk(h.position, [], h.line_start, len(data))
            events = [self._event(h, h.pending, h.line_start, truncated=True)]
            h.line_start = h.read_pos - len(data) + nl + 1
            h.pending, h.skipping = b"", False
            data = data[nl + 1 :]
        else:
            events = []
        buf = h.pending + data if h.pending else data
        parts = buf.split(b"\n")
        tail = parts.pop()
        offset = h.line_start
        sid, path, max_line = h.state.source_id, h.path, self._max_line
        for line in parts:
            if len(line) > max_line:
                events.append(self._event(h, line[:max_line], offset, truncated=True))
            else:
                events.append({RAW: line, SOURCE_ID: sid, "log.file.path": path, "log.offset": offset})
            offset += len(line) + 1
        h.line_start = offset
        if len(tail) > max_line:
            h.pending, h.skipping = tail[:max_line], True
        else:
            h.pending = tail
        return Chunk(h.position, events, h.line_start, len(data))

    @staticmethod
    def _event(h: Harvester, line: bytes, offset: int, *, truncated: bool = False) -> dict[str, Any]:
        event: dict[str, Any] = {
            RAW: line,
            SOURCE_ID: h.state.source_id,
            "log.file.path": h.path,
            "log.offset": offset,
        }
        if truncated:
            event["tags"] = [TRUNCATED_TAG]
        return event

    def _finish_if_done(self, h: Harvester) -> Chunk | None:
        """At EOF: close a file that was rotated away, deleted, idle, or fully read in one-shot mode.

        A partial last line is emitted as is only when the file can no longer grow at this name
        (renamed away or deleted); otherwise it waits for its newline (one-shot runs leave it for the
        next run).
        """
        try:
            st = os.fstat(h.file.fileno())
        except OSError:
            st = None
        gone = st is None or st.st_nlink == 0 or not self._still_at_path(h)
        idle = time.monotonic() - h.last_data >= self.config.close_inactive
        if not (gone or idle or self.once):
            return None
        final = None
        if gone and (h.pending or h.skipping):
            final = Chunk(h.position, [self._event(h, h.pending, h.line_start, truncated=h.skipping)], h.read_pos, 0)
            h.line_start = h.read_pos
            h.pending, h.skipping = b"", False
        self._close(h)
        return final

    @staticmethod
    def _still_at_path(h: Harvester) -> bool:
        try:
            st = os.stat(h.path)
        except OSError:
            return False
        return f"{st.st_dev}:{st.st_ino}" == h.key

    def _close(self, h: Harvester) -> None:
        self._resume[h.key] = (h.state.source_id, h.line_start)
        h.file.close()
        self.harvesters.pop(h.key, None)

    def bytes_behind(self) -> dict[str, int]:
        """Per open file, bytes written but not yet read: how far the source lags."""
        behind = {}
        for h in self.harvesters.values():
            try:
                behind[h.path] = max(0, os.fstat(h.file.fileno()).st_size - h.read_pos)
            except OSError:
                continue
        return behind

    def ack(self, positions: dict[PositionKey, int]) -> None:
        """The sink accepted everything up to these positions: persist them."""
        if positions:
            self.registry.advance(positions)
            self.registry.save()

    def done(self) -> bool:
        """One-shot mode: every matched file was read to its end and closed."""
        return not self.harvesters

    def close(self) -> None:
        for h in list(self.harvesters.values()):
            self._close(h)


class StdinSource:
    """``logferry ingest -``: lines from standard input; the end of input ends the stream."""

    def __init__(self, stream: BinaryIO, max_line_bytes: int, read_bytes: int = 1 << 20) -> None:
        self.stream = stream
        self.max_line = max_line_bytes
        self.read_bytes = read_bytes
        self.offset = 0
        self.pending = b""
        self.finished = False

    def poll(self, budget_bytes: int = 8 << 20) -> Iterator[Chunk]:
        read = 0
        while not self.finished and read < budget_bytes:
            data = self.stream.read(self.read_bytes)
            if not data:
                self.finished = True
                if self.pending:
                    yield Chunk(("stdin", "stdin"), [self._event(self.pending, self.offset)], 0, 0)
                    self.pending = b""
                return
            read += len(data)
            parts = (self.pending + data).split(b"\n")
            self.pending = parts.pop()
            events = []
            for line in parts:
                events.append(self._event(line, self.offset))
                self.offset += len(line) + 1
            yield Chunk(("stdin", "stdin"), events, 0, len(data))

    def _event(self, line: bytes, offset: int) -> dict[str, Any]:
        # The id comes from the content and the position: a replay of the same stream coincides, two
        # streams do not overwrite each other, and two equal lines of one stream stay two events.
        source_id = "stdin:" + hashlib.blake2b(line, digest_size=8).hexdigest()
        event: dict[str, Any] = {RAW: line[: self.max_line], SOURCE_ID: source_id, "log.offset": offset}
        if len(line) > self.max_line:
            event["tags"] = [TRUNCATED_TAG]
        return event

    def bytes_behind(self) -> dict[str, int]:
        return {}

    def ack(self, positions: dict[PositionKey, int]) -> None:
        """Standard input cannot be re-read: there is nothing to persist."""

    def done(self) -> bool:
        return self.finished

    def close(self) -> None:
        return None
