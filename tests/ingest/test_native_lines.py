"""``Chain.process_lines`` (a block of file lines, GIL released, one or two threads) gives every line
exactly what ``Chain.process`` gives its source event: the same document, timestamp, event id, tags,
and the same declines, on the golden corpus (whose documents ``process`` is held to byte for byte)."""

from __future__ import annotations

import gzip
from itertools import groupby
from typing import Any

import pytest

from core.chunk import Lines
from tests.conftest import services_required
from tests.golden.chain_golden import HOST, INPUT, compiled_chain, decode_input

INGESTED = "2031-02-03T04:05:06.789Z"
ROWS = [decode_input(row) for row in gzip.decompress(INPUT.read_bytes()).splitlines()]


def native_module() -> Any:
    if services_required():
        import logferry_native

        return logferry_native
    return pytest.importorskip("logferry_native", reason="the compiled chain is not installed (pip install ./native)")


def native_chain_of(host: str = HOST, config: str = "default") -> Any:
    """The compiled chain of a golden configuration (the default one) with host name ``host``."""
    native_module()
    return compiled_chain(config, host)


def per_event(chain: Any, lines: Lines) -> tuple[Any, ...]:
    """What ``process`` makes of the block's lines one source event at a time, in process_lines' form."""
    docs: list[Any] = []
    stamps: list[Any] = []
    ids: list[Any] = []
    tags: list[Any] = []
    declined = []
    results, reasons, redacted = chain.process(lines.events(), INGESTED)
    for index, result in enumerate(results):
        if result is None:
            declined.append(index)
            result = (None, {})
        doc, stub = result
        docs.append(doc)
        stamps.append(stub.get("@timestamp"))
        ids.append(stub.get("event.id"))
        tags.append(tuple(stub["tags"]) if "tags" in stub else None)
    return docs, stamps, ids, tags, declined, [reasons[index] for index in declined], redacted


@pytest.mark.parametrize("threads", [1, 2])
def test_a_block_gives_each_line_what_process_gives_its_event(threads: int) -> None:
    chain = native_chain_of()
    compared = declined = 0
    for block, (path, rows) in enumerate(groupby(ROWS, key=lambda row: row[0])):
        lines = Lines([line for _, line in rows], f"2049:{block}:golden", path, 1000 * block)
        got = chain.process_lines(lines.lines, lines.source_id, lines.path, lines.first_offset, [], INGESTED, threads)
        assert got == per_event(chain, lines), f"block {block} ({path})"
        compared += len(lines)
        declined += len(got[4])
    assert compared == len(ROWS) and 0 < declined < compared / 2


def test_skipped_lines_are_declined_and_the_others_keep_their_offsets() -> None:
    chain = native_chain_of()
    line = b'{"time":"2026-11-20T10:00:00.000Z","msg":"hello","status":500,"method":"GET","url":"/a"}'
    lines = Lines([line] * 1200, "2049:7:golden", "/var/log/app/a.log", 50)
    for threads in (1, 2):
        docs, stamps, ids, tags, declined, reasons, _ = chain.process_lines(
            lines.lines, lines.source_id, lines.path, lines.first_offset, [0, 599, 600, 1199], INGESTED, threads
        )
        assert declined == [0, 599, 600, 1199]
        assert reasons == ["read_apart"] * 4
        assert [docs[i] for i in declined] == [None] * 4 and [ids[i] for i in declined] == [None] * 4
        expected, _, _ = chain.process([lines.event(i) for i in range(1200)], INGESTED)
        for i in set(range(1200)) - set(declined):
            doc, stub = expected[i]
            assert (docs[i], stamps[i], ids[i]) == (doc, stub["@timestamp"], stub["event.id"])
            assert tags[i] == tuple(stub["tags"])
        assert tags[1] is tags[1198], "lines with the same tags share one tuple"
