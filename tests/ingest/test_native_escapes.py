"""The compiled chain reads and writes JSON strings eight bytes at a time: a character that must be
escaped (``"``, ``\\``, a control character) is found wherever it sits in the word, before and after
the eight-byte steps, in keys, values and nested values, and the document equals the Python chain's."""

from __future__ import annotations

import orjson
import pytest

from tests.golden.chain_golden import document
from tests.test_fast_path_differential import default_chains, native_document

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
