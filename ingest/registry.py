"""The registry of offsets: how far each file has been durably shipped.

It is advanced only after the sink has accepted every event up to an offset, and written
temp → fsync → rename → fsync(dir), so a crash or a full disk leaves either the old or the new
registry, never a torn one. A restart therefore neither loses nor repeats a line (at-least-once;
deterministic event ids make the rare repeat after a crash idempotent in the sinks).

A registry that cannot be read or written is a ``RegistryError``: one line naming the file and what
to do, which the CLI prints without a traceback.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.chunk import Position
from core.errors import LogferryError

RETIRED_PREFIX = "retired:"
RETIRED_MAX = 64


class RegistryError(LogferryError):
    """The registry file cannot be read or written; the message names it and the way out."""


@dataclass
class FileState:
    """What the registry remembers of one file, keyed by its identity ``dev:ino``.

    ``fingerprint`` is a hash of the first ``fingerprint_len`` bytes (up to 1 KiB, growing with the
    file); ``source_id`` is fixed per generation because event ids derive from it. ``cut_at`` is the
    offset where a shipped unterminated line ended: a line starting there is its continuation.
    ``checks`` are ``(end, hash)`` of the up to 1 KiB ending at line boundaries already read, ascending:
    a file that starts like this one is its copy only if it has the same bytes there (the head alone
    is not proof). None in a registry written before checks existed.
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


class _StoredRegistry(BaseModel):
    """The registry file as written by ``save``; validated whole at load."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1]
    files: dict[str, _StoredState]


class Registry:
    """Offsets by file identity, persisted atomically in one small JSON file."""

    VERSION = 1

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: dict[str, FileState] = {}
        if path.exists():
            self._load()

    def _load(self) -> None:
        try:
            stored = _StoredRegistry.model_validate_json(self.path.read_bytes())
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "document"
            self._unreadable(
                f"{where}: {first['msg']}" + (f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else "")
            )
        except OSError as exc:
            self._unreadable(exc.strerror or str(exc))
        self.files = {key: FileState(**state.model_dump()) for key, state in stored.files.items()}

    def _unreadable(self, reason: str) -> None:
        raise RegistryError(
            f"registry {self.path} is unreadable ({reason}); move it aside (mv {self.path} {self.path}.broken) "
            "and run again: files are then read from their beginning, and sinks that upsert by event id "
            "store no duplicates"
        )

    def get(self, key: str) -> FileState | None:
        return self.files.get(key)

    def put(self, key: str, state: FileState) -> None:
        self.files[key] = state

    def advance(self, positions: dict[Position, int]) -> None:
        """Record offsets the sink has accepted, keyed by (identity, source id).

        A position of an older incarnation of the file (before a copytruncate or an inode reuse) has
        another source id and cannot move the new incarnation's offset; it moves the state that now
        holds that source id instead (the retired generation, or the copy that continues it).
        """
        now = time.time()
        for (key, source_id), offset in positions.items():
            state = self.files.get(key)
            if state is None or state.source_id != source_id:
                state = next((s for s in self.files.values() if s.source_id == source_id), None)
                if state is None:
                    continue
                offset = max(offset, state.offset)
            state.offset = offset
            state.updated = now

    def retire(self, key: str, state: FileState) -> None:
        """Keep an old generation (truncated away) so that a copy of it can continue where it stopped.

        Only the newest ``RETIRED_MAX`` are kept: a copy is normally made just before the truncation.
        """
        self.files[RETIRED_PREFIX + state.source_id] = state
        retired = sorted((s.updated, k) for k in self.files if k.startswith(RETIRED_PREFIX) for s in [self.files[k]])
        for _, old in retired[:-RETIRED_MAX]:
            del self.files[old]

    def forget(self, key: str) -> None:
        self.files.pop(key, None)

    def save(self) -> None:
        """Write temp → fsync → rename → fsync(dir): the registry on disk is always whole.

        A failed write (ENOSPC, EIO, a short write that cannot complete) removes the temp file and
        leaves the previous registry in place.
        """
        body = orjson.dumps(
            {"version": self.VERSION, "files": {k: asdict(v) for k, v in self.files.items()}},
            option=orjson.OPT_INDENT_2,
        )
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                write_all(fd, body)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise RegistryError(
                f"cannot write registry {self.path}: {exc.strerror or exc}; the previous registry is intact "
                "(lines since its last save will be read again)"
            ) from exc
        try:
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise RegistryError(f"registry {self.path} written but its directory not synced: {exc.strerror}") from exc


def write_all(fd: int, body: bytes) -> None:
    """``os.write`` may write less than asked (a nearly full disk): loop until all is written; a write
    that makes no progress is a full disk."""
    view = memoryview(body)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]
