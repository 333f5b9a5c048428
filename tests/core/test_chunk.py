"""A file source's block of plain lines travels as ``Lines``; its events are made only on demand."""

from __future__ import annotations

from core.chunk import Chunk, Lines
from core.keys import RAW, SOURCE_ID


def test_each_line_is_at_the_offset_after_the_lines_before_it_and_their_newlines() -> None:
    lines = Lines([b"one", b"", b"three", b"4"], "sid", "/var/log/a.log", 100)
    assert [lines.offset(i) for i in range(4)] == [100, 104, 105, 111]
    assert lines.events() == [
        {RAW: b"one", SOURCE_ID: "sid", "log.file.path": "/var/log/a.log", "log.offset": 100},
        {RAW: b"", SOURCE_ID: "sid", "log.file.path": "/var/log/a.log", "log.offset": 104},
        {RAW: b"three", SOURCE_ID: "sid", "log.file.path": "/var/log/a.log", "log.offset": 105},
        {RAW: b"4", SOURCE_ID: "sid", "log.file.path": "/var/log/a.log", "log.offset": 111},
    ]


def test_a_line_read_apart_keeps_its_place_and_its_own_event() -> None:
    cut = {RAW: b"xx", SOURCE_ID: "sid", "log.file.path": "p", "log.offset": 4, "tags": ["_truncated"]}
    lines = Lines([b"abc", b"xxxxxx", b"d"], "sid", "p", 0, {1: cut})
    events = lines.events()
    assert [e[RAW] for e in events] == [b"abc", b"xx", b"d"]
    assert events[1] is cut
    assert [e["log.offset"] for e in events] == [0, 4, 11]


def test_a_chunk_of_lines_counts_them_without_making_events_and_makes_them_once() -> None:
    chunk = Chunk.of_lines(("1:2", "sid"), Lines([b"a", b"b"], "sid", "p", 7), 11, 4)
    assert chunk.count == 2 and chunk._events is None
    events = chunk.events
    assert [e["log.offset"] for e in events] == [7, 9]
    assert chunk.events is events


def test_a_chunk_of_events_is_what_it_was_given() -> None:
    events = [{RAW: b"x", SOURCE_ID: "stdin"}]
    chunk = Chunk(("stdin", "stdin"), events, 0, 2)
    assert chunk.lines is None and chunk.count == 1 and chunk.events is events
    assert Chunk.of_lines(("k", "s"), Lines([], "s", "p", 0), 0, 0).events == []
