"""The file source hands a block of plain lines as ``Lines`` (bytes as split, shared metadata), not one
dict per line; cut and partial lines keep their place, their offsets and their tags."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from core.chunk import Chunk
from core.keys import RAW, SOURCE_ID
from core.outcomes import TRUNCATED
from ingest.file_source import FileSource
from tests.ingest.helpers import drain, file_source

pytestmark = pytest.mark.integration


def age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def chunks_of(src: FileSource) -> list[Chunk]:
    """Every chunk with lines, acknowledged like a sink, until a poll brings none."""
    chunks: list[Chunk] = []
    while True:
        got = [chunk for chunk in src.poll() if chunk.count]
        for chunk in got:
            src.ack({chunk.position: chunk.end_offset})
        if not got:
            return chunks
        chunks.extend(got)


def test_a_block_of_plain_lines_comes_as_lines_with_what_they_share(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"one\n\nthree\nhal")
    src = file_source(tmp_path)
    chunks = list(src.poll())
    assert len(chunks) == 1
    chunk = chunks[0]
    assert chunk.lines is not None and chunk.lines.lines == [b"one", b"", b"three"]
    assert chunk.lines.special == {}
    assert chunk.count == 3 and chunk.end_offset == 11
    sid = chunk.position[1]
    assert chunk.events == [
        {RAW: b"one", SOURCE_ID: sid, "log.file.path": str(log), "log.offset": 0},
        {RAW: b"", SOURCE_ID: sid, "log.file.path": str(log), "log.offset": 4},
        {RAW: b"three", SOURCE_ID: sid, "log.file.path": str(log), "log.offset": 5},
    ]
    src.close()


def test_a_cut_line_and_a_partial_line_keep_their_place_offsets_and_tags(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"one\nhal")
    age(log, 3600)
    shipped = drain(file_source(tmp_path, once=True, max_line_bytes=64))
    assert [e[RAW] for e in shipped] == [b"one", b"hal"] and shipped[1]["tags"] == ["_partial"]

    long = b"x" * 100
    with open(log, "ab") as f:
        f.write(b"f\n" + long + b"\nplain\n" + long + b"\nlast\n")
    again = file_source(tmp_path, once=True, max_line_bytes=64)
    chunks = chunks_of(again)
    assert len(chunks) == 1 and chunks[0].lines is not None
    lines = chunks[0].lines
    assert lines.lines == [b"f", long, b"plain", long, b"last"]
    assert sorted(lines.special) == [0, 1, 3]
    events = chunks[0].events
    assert [e[RAW] for e in events] == [b"f", b"x" * 64, b"plain", b"x" * 64, b"last"]
    assert [e.get("tags") for e in events] == [["_partial"], ["_truncated"], None, ["_truncated"], None]
    assert [e["log.offset"] for e in events] == [7, 9, 110, 116, 217]
    assert again.counts.get(TRUNCATED, "max_line_bytes") == 2
    again.close()


def test_a_first_line_both_partial_and_cut_carries_both_tags(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"zero\nhal")
    age(log, 3600)
    shipped = drain(file_source(tmp_path, once=True, max_line_bytes=64))
    assert [e.get("tags") for e in shipped] == [None, ["_partial"]]
    with open(log, "ab") as f:
        f.write(b"y" * 100 + b"\nnext\n")
    again = file_source(tmp_path, once=True, max_line_bytes=64)
    events = [e for c in chunks_of(again) for e in c.events]
    assert [e[RAW] for e in events] == [b"y" * 64, b"next"]
    assert events[0]["tags"] == ["_truncated", "_partial"] and "tags" not in events[1]
    assert [e["log.offset"] for e in events] == [8, 109]
    again.close()
