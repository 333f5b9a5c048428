"""Standard input through a real pipe: a line without a newline is held only up to max_line_bytes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.keys import RAW
from ingest.file_source import StdinSource

pytestmark = pytest.mark.integration

FLOOD = (
    "import sys\n"
    "for _ in range(20): sys.stdout.buffer.write(b'x' * (1 << 20))\n"
    "sys.stdout.buffer.write(b'\\nnext\\nlast')"
)


def test_a_stream_without_newlines_is_held_to_max_line_bytes_and_cut() -> None:
    writer = subprocess.Popen([sys.executable, "-c", FLOOD], stdout=subprocess.PIPE)
    assert writer.stdout is not None
    src = StdinSource(writer.stdout, max_line_bytes=4096, read_bytes=65_536)
    events, held = [], 0
    while not src.done():
        for chunk in src.poll():
            events.extend(chunk.events)
            held = max(held, len(src.pending))
    writer.wait(timeout=60)
    assert held <= 4096
    assert [e[RAW][:4] for e in events] == [b"xxxx", b"next", b"last"]
    assert len(events[0][RAW]) == 4096 and events[0]["tags"] == ["_truncated"]
    assert [e["log.offset"] for e in events] == [0, 20 * (1 << 20) + 1, 20 * (1 << 20) + 6]
    assert "tags" not in events[1] and "tags" not in events[2]


def test_a_line_split_across_reads_is_one_event() -> None:
    code = "import sys\nsys.stdout.buffer.write(b'a' * 100 + b'\\n' + b'b' * 150_000 + b'\\nc\\n')"
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert writer.stdout is not None
    src = StdinSource(writer.stdout, max_line_bytes=1 << 20, read_bytes=4096)
    events = []
    while not src.done():
        for chunk in src.poll():
            events.extend(chunk.events)
    writer.wait(timeout=60)
    assert [len(e[RAW]) for e in events] == [100, 150_000, 1]
    assert [e["log.offset"] for e in events] == [0, 101, 150_102]
    assert not any("tags" in e for e in events)
