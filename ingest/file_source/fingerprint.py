"""The fingerprinter: what makes a file the same file, a new generation of it, or a copy of it.

A file is known by ``dev:ino`` plus a fingerprint of its first bytes (up to 1 KiB, as Filebeat; it
grows with a young file), and by checks: hashes of the 1 KiB ending at line boundaries already read
(those of the last three reads and the first past each power of two below them). A file whose head
matches is the same file only if it also has the bytes of its last check it is long enough for; a
copy must have them too (see ``ingest/file_source/source.py`` for the whole proof).

Each function here reads a few bytes by ``pread`` on a descriptor it is given and never keeps one.
"""

from __future__ import annotations

import hashlib
import os
import time

from ingest.registry import FileState, lead_length

FINGERPRINT_MAX = 1024
CHECKS_RECENT = 3  # the last reads' ends: a copy taken between two reads is verified near its end
CHECKS_MAX = 8  # those and the first past each power of two below them: the registry stays small
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


def head_matches(head: bytes, state: FileState) -> bool:
    """Does a file starting with ``head`` start with the fingerprinted bytes of ``state``?"""
    n = state.fingerprint_len
    return len(head) >= n and digest(head[:n]) == state.fingerprint


def lead_of(head: bytes) -> str:
    """The index hash of a state fingerprinted over all of ``head`` (see ``lead_length``)."""
    return digest(head[: lead_length(len(head))])


def grow_fingerprint(state: FileState, head: bytes) -> bool:
    """A young file's fingerprint grows with it up to 1 KiB; True if it changed."""
    if state.fingerprint_len >= len(head):
        return False
    state.fingerprint, state.fingerprint_len = digest(head), len(head)
    state.lead = lead_of(head)
    return True


def new_state(key: str, path: str, head: bytes, offset: int, generation: int) -> FileState:
    """A generation's state; its source id (hence its event ids) is fixed from its first bytes now, or,
    when it is still empty, at its first read (see ``Watcher.read``)."""
    fp = digest(head)
    return FileState(
        path,
        offset,
        source_id(key, fp, generation),
        fp,
        len(head),
        generation,
        time.time(),
        checks=[],
        lead=lead_of(head),
    )


def source_id(key: str, fingerprint: str, generation: int) -> str:
    return f"{key}:{fingerprint}" + (f":g{generation}" if generation else "")


def block_before(fd: int, end: int) -> bytes:
    """The up to ``FINGERPRINT_MAX`` bytes of a file that end at ``end``."""
    low = max(0, end - FINGERPRINT_MAX)
    return os.pread(fd, end - low, low)


def checkpoint(state: FileState, end: int, block: bytes) -> bool:
    """Record the hash of ``block`` (ending at ``end``, a line boundary) as the state's latest check.

    The checks of the last three reads stay, so a copy taken between two reads of the original is
    verified near its end; of older ones, the first past each power of two stays, so a copy a little
    shorter than what was read is verified past half its length (a file shorter than the oldest check
    kept is no copy: it is read whole). True if a check was added.
    """
    if len(block) < min(end, FINGERPRINT_MAX):
        return False  # the file changed under the read; the truncation check will see it
    if state.checks and state.checks[-1][0] >= end:
        return False
    checks = [*(state.checks or ()), (end, digest(block))]
    kept: list[tuple[int, str]] = []
    for older in checks[:-CHECKS_RECENT]:
        if not kept or kept[-1][0].bit_length() != older[0].bit_length():
            kept.append(older)
    state.checks = (kept + checks[-CHECKS_RECENT:])[-CHECKS_MAX:]
    return True


def first_check(state: FileState, fd: int, start: int, read_bytes: int, data: bytes | None = None) -> bool:
    """Give a generation about to be read the check its first read will record, before that read
    (from ``data`` when the file was read already, from ``start``).

    The registry is written with it before the first lines can reach a sink, so that a copy of this
    generation found after a crash continues it with the same event ids (see ``Checkpointer.register``).
    """
    if data is None:
        data = os.pread(fd, read_bytes, start)
    nl = data.rfind(b"\n")
    if nl < 0:
        return False
    end = start + nl + 1
    low = max(0, end - FINGERPRINT_MAX)
    block = data[low - start : nl + 1] if low >= start else block_before(fd, end)
    return checkpoint(state, end, block)


def checked_bytes(state: FileState, fd: int, size: int) -> bool | None:
    """Does the file on ``fd`` (``size`` bytes) have the bytes of ``state``'s last check it is long
    enough for? None when ``state`` has no checks (a registry from an older version): the head alone.

    A check that is not the latest must lie past half the file: a copy is at most a little shorter
    than what was read, and a file whose second half was never compared is not taken for one.
    """
    if state.checks is None:
        return None
    usable = [check for check in state.checks if check[0] <= size]
    if not usable:
        return False
    end, hashed = usable[-1]
    if end != state.checks[-1][0] and 2 * end < size:
        return False
    try:
        return digest(block_before(fd, end)) == hashed
    except OSError:
        return False


def same_content(state: FileState, fd: int, size: int) -> bool:
    """Is the file on ``fd``, whose head matches ``state``, the file ``state`` was read from?

    Its first KiB alone does not say: a file replaced by another with the same first line longer than
    1 KiB (and the inode reused) would resume at the old offset. The last check at or below ``size``
    must match too. A state without checks, or with none within the file, has only the head to go by.
    """
    if not state.checks:
        return True
    usable = [check for check in state.checks if check[0] <= size]
    if not usable:
        return True
    end, hashed = usable[-1]
    try:
        return digest(block_before(fd, end)) == hashed
    except OSError:
        return True
