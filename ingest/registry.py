"""The registry of offsets: how far each file has been durably shipped.

It is advanced only after the sink has accepted every event up to an offset, and written
temp → fsync → rename → fsync(dir), so a crash leaves either the old or the new registry, never a torn
one. A restart therefore neither loses nor repeats a line (at-least-once; deterministic event ids
make the rare repeat after a crash idempotent in the sinks).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson


@dataclass
class FileState:
    """What the registry remembers of one file, keyed by its identity ``dev:ino``."""

    path: str
    offset: int
    source_id: str
    fingerprint: str
    fingerprint_len: int
    generation: int = 0
    updated: float = 0.0


class Registry:
    """Offsets by file identity, persisted atomically in one small JSON file."""

    VERSION = 1

    def __init__(self, path: Path) -> None:
        self.path = path
        self.files: dict[str, FileState] = {}
        if path.exists():
            self._load()

    def _load(self) -> None:
        data = orjson.loads(self.path.read_bytes())
        if data.get("version") != self.VERSION:
            raise ValueError(f"{self.path}: unknown registry version {data.get('version')!r}")
        self.files = {key: FileState(**state) for key, state in data["files"].items()}

    def get(self, key: str) -> FileState | None:
        return self.files.get(key)

    def put(self, key: str, state: FileState) -> None:
        self.files[key] = state

    def advance(self, positions: dict[tuple[str, str], int]) -> None:
        """Record offsets the sink has accepted, keyed by (identity, source id).

        A position of an older incarnation of the file (before a copytruncate or an inode reuse) has
        another source id and is ignored, so it cannot move the new incarnation's offset.
        """
        now = time.time()
        for (key, source_id), offset in positions.items():
            state = self.files.get(key)
            if state is not None and state.source_id == source_id:
                state.offset = offset
                state.updated = now

    def forget(self, key: str) -> None:
        self.files.pop(key, None)

    def save(self) -> None:
        """Write temp → fsync → rename → fsync(dir): the registry on disk is always whole."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = orjson.dumps(
            {"version": self.VERSION, "files": {k: asdict(v) for k, v in self.files.items()}},
            option=orjson.OPT_INDENT_2,
        )
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
