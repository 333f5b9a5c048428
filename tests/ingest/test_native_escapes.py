"""The compiled chain reads and writes JSON strings eight bytes at a time: a character that must be
escaped (``"``, ``\\``, a control character) is found wherever it sits in the word, before and after
the eight-byte steps, in keys, values and nested values, and the document equals the Python chain's."""

from __future__ import annotations

import functools
from typing import Any

import orjson
import pytest

from tests.golden.chain_golden import INGEST_TIME, INGESTED, build_chain, chain_settings, document, source_event
from tests.ingest.test_native_lines import native_chain_of

NATIVE_INGESTED = "2031-02-03T04:05:06.789Z"


@functools.cache
def default_chains() -> tuple[Any, list[tuple[str, Any]]]:
    """The compiled and the Python chain under the default config, built once for all lines."""
    return native_chain_of(), build_chain(chain_settings("default"))


def native_document(chain: Any, index: int, path: str, line: bytes) -> bytes | None:
    """The compiled chain's document of one line (``None`` when declined), normalized as ``document``."""
    (result,), _, _ = chain.process([source_event(index, path, line)], NATIVE_INGESTED)
    if result is None:
        return None
    doc, stub = result
    if stub["@timestamp"] == NATIVE_INGESTED:
        stamp = b'"@timestamp":"' + NATIVE_INGESTED.encode() + b'"'
        doc = doc.replace(stamp, b'"@timestamp":"' + INGEST_TIME.encode() + b'"', 1)
    normalized, count = INGESTED.subn(b'"ingested":"' + INGEST_TIME.encode() + b'"', doc)
    assert count == 1
    return normalized


ESCAPED = ['"', "\\", "\n", "\t", "\x00", "\x1f", "\x08", "\x0c", "\r"]
NEIGHBOURS = ["\x20", "\x7f", "é", "!", "#", "]", "["]


def lines() -> list[bytes]:
    """Lines with one special character at every offset of a 21-character message, in three places."""
    made = []
    for special in ESCAPED + NEIGHBOURS:
        for offset in range(21):
            text = "a" * offset + special + "b" * (20 - offset)
            made.append(
                orjson.dumps({"timestamp": "2024-05-01T10:00:00Z", "level": "info", "msg": text, "k" + text: 1})
            )
            made.append(orjson.dumps({"ts": 1714557600, "message": "m", "extra": {"nested": text, "n": [text]}}))
    return made


@pytest.mark.parametrize("line", lines())
def test_escapes_at_every_offset_match_the_python_chain(line: bytes) -> None:
    native, python = default_chains()
    index = 9  # a line read from a file (every 9th golden source event comes from stdin)
    got = native_document(native, index, "/var/log/app/escapes.log", line)
    if got is None:
        assert not line.isascii(), f"the compiled chain declined {line!r}"
        return  # a non-ASCII field name is the Python chain's by design
    assert got == document(python, index, "/var/log/app/escapes.log", line)
