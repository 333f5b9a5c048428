"""The compiled chain on lines that are not a JSON object and on lines without a readable time gives the
Python chain's document, event id and tags.

Such a line is stamped with the time of processing: the Python chain reads its clock (``now_utc()``),
the compiled one takes the block's ``event.ingested``. The comparison normalizes that one value on
both sides, and holds the compiled ``@timestamp`` to be exactly the line's ``event.ingested``.
Invalid UTF-8 is repaired as ``bytes.decode("utf-8", "replace")`` does, maximal subparts and all.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.chunk import file_event
from ingest.document import serialize
from logferry.sample import generate_lines
from parsers.timestamp import now_utc
from tests.golden.chain_golden import INGEST_TIME, build_chain, chain_settings, run_chain
from tests.ingest.test_native_lines import native_chain_of

INGESTED = "2031-02-03T04:05:06.789Z"
SOURCE_ID = "2049:77:plain"
PATH = "/var/log/app/plain.log"
FIRST_OFFSET = 4096

BAD_UTF8 = [
    b"\xc3",  # truncated two-byte
    b"\xe2\x82",  # truncated three-byte
    b"\xf0\x9f\x98",  # truncated four-byte
    b"\xc0\x80",  # overlong NUL
    b"\xc1\xbf",  # overlong
    b"\xe0\x80\xaf",  # overlong three-byte
    b"\xf0\x80\x80\xaf",  # overlong four-byte
    b"\xed\xa0\x80",  # surrogate
    b"\xed\xbf\xbf",  # surrogate
    b"\x80",  # stray continuation
    b"\xbf\xbf",  # stray continuations
    b"\xf4\x90\x80\x80",  # above U+10FFFF
    b"\xf5\x80",
    b"\xfe",
    b"\xff",
    b"\xe2\x82\xac",  # a valid euro sign between the bad ones
]
TIME_FIELDS = ["timestamp", "@timestamp", "time", "ts", "asctime"]
BAD_TIMES: list[Any] = [
    "",
    "   ",
    "yesterday",
    "N/A",
    "nan",
    "-inf",
    "héllo",
    None,
    True,
    False,
    [],
    ["2026-11-20T10:00:00Z"],
    {"seconds": 1},
    -1,
    0.5e-4,
    -1700000000.5,
    5_000_000_000_000_000_000,
    4_200_000_000_000,
    "4200000000000",
    "1960-01-01T00:00:00Z",
    "2200-01-01T00:00:00+02:00",
    "1969-12-31T23:59:59.999Z",
    "2100-12-31T23:30:00-01:00",
]
GOOD_TIMES: list[Any] = ["2026-11-20T10:00:00.123Z", 1795348800, "2026-11-22 01:02:03:456"]

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=40)
_PLAIN_LINE = st.one_of(
    _TEXT.map(lambda text: text.encode()),
    st.sampled_from(
        [
            b"",
            b"\r",
            b"   ",
            b"    at Object.<anonymous> (/app/server.js:12:7)\r",
            b"Traceback (most recent call last):",
            b'127.0.0.1 - - [02/Dec/2026:07:00:00 +0000] "GET /health HTTP/1.1" 200 2 "-" "curl/8.0"',
            b"=== starting checkout v2.3.1 ===",
            b"{",
            b'{"msg":"cut',
            b'{"msg":"trailing comma",}',
            b"{'single':'quotes'}",
            b'{"a":1} trailing text',
            b'\xef\xbb\xbf{"msg":"after a byte order mark"}',
        ]
    ),
)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_TEXT, children, max_size=3),
    max_leaves=6,
)
_NOT_OBJECT = _JSON.filter(lambda value: type(value) is not dict).map(orjson.dumps)
_INVALID_UTF8 = st.lists(st.sampled_from(BAD_UTF8) | _TEXT.map(str.encode), min_size=1, max_size=6).map(b"".join)
_FIELDS = st.dictionaries(
    st.sampled_from(["msg", "message", "level", "service", "user_id", "status", "tags", "_@timestamp", "host"]),
    st.sampled_from(["hello", "WARN", "checkout", 7, None, ["a"], "caf\u00e9"]),
    max_size=4,
)


def _object_line(times: dict[str, Any], fields: dict[str, Any]) -> bytes:
    return orjson.dumps({**fields, **times})


_TIMES = st.dictionaries(st.sampled_from(TIME_FIELDS), st.sampled_from(BAD_TIMES + GOOD_TIMES), max_size=2)
_OBJECT_LINE = st.builds(_object_line, _TIMES, _FIELDS)
_OBJECT_WITH_BAD_UTF8 = st.builds(
    lambda line, bad: line.replace(b'"hello"', b'"he' + bad + b'llo"'),
    st.builds(_object_line, _TIMES, _FIELDS.map(lambda fields: {**fields, "msg": "hello"})),
    st.sampled_from(BAD_UTF8),
)
_SAMPLE = [line.rstrip(b"\n") for _, line in generate_lines(200, seed=3)]
_LINE = st.one_of(
    _PLAIN_LINE, _NOT_OBJECT, _INVALID_UTF8, _OBJECT_LINE, _OBJECT_WITH_BAD_UTF8, st.sampled_from(_SAMPLE)
).map(lambda line: line.replace(b"\n", b" "))


@functools.cache
def python_chain() -> list[tuple[str, Any]]:
    return build_chain(chain_settings("default"))


def python_line(offset: int, line: bytes) -> tuple[bytes, str, tuple[str, ...] | None]:
    """The Python chain's document (its clock's ``@timestamp`` normalized), event id and string tags."""
    started = now_utc()
    event = run_chain(python_chain(), file_event(line, SOURCE_ID, PATH, offset))
    ended = now_utc()
    assert event is not None
    if started <= event["@timestamp"] <= ended:
        event["@timestamp"] = INGEST_TIME
    event["event.ingested"] = INGEST_TIME
    tags = event.get("tags")
    listed = [tags] if type(tags) is str else tags if type(tags) is list else []
    return serialize(event), event["event.id"], tuple(tag for tag in listed if type(tag) is str) or None


def compiled_document(doc: bytes, stamp: str) -> bytes:
    """The compiled document normalized as ``python_line``'s; a line stamped with the processing time
    has exactly the block's ``event.ingested`` there."""
    shipped = orjson.loads(doc)
    assert shipped["@timestamp"] == stamp and shipped["event"]["ingested"] == INGESTED
    ingested = b'"ingested":"' + INGESTED.encode() + b'"'
    doc = doc.replace(ingested, b'"ingested":"' + INGEST_TIME.encode() + b'"', 1)
    if stamp == INGESTED:
        stamped = b'"@timestamp":"' + INGESTED.encode() + b'"'
        doc = doc.replace(stamped, b'"@timestamp":"' + INGEST_TIME.encode() + b'"', 1)
    return doc


def compare_block(chain: Any, lines: list[bytes], threads: int = 1) -> list[int]:
    """Every line the compiled chain keeps is the Python chain's; the indices it kept."""
    docs, stamps, ids, tags, declined, _, _ = chain.process_lines(
        lines, SOURCE_ID, PATH, FIRST_OFFSET, [], INGESTED, threads
    )
    compiled = []
    offset = FIRST_OFFSET
    for index, line in enumerate(lines):
        if index not in declined:
            expected = python_line(offset, line)
            assert (compiled_document(docs[index], stamps[index]), ids[index], tags[index]) == expected, (index, line)
            compiled.append(index)
        offset += len(line) + 1
    return compiled


MUST_COMPILE = [
    b"plain text from a startup banner",
    b"",
    b"\r\n\r",
    b"    at Object.<anonymous> (/app/server.js:12:7)",
    b"[1,2,3]",
    b'"just a string"',
    b"42",
    b"null",
    b'{"msg":"cut',
    b'{"a":1,}',
    b"caf\xe9 au lait",
    b"\xed\xa0\x80 surrogate, \xc0\x80 overlong, \xe2\x82 truncated, \x80 stray",
    b'{"msg":"caf\xe9","time":"2026-11-20T10:00:00Z"}',
    b'{"msg":"caf\xe9","tags":"own"}',
    b'["caf\xe9"]',
    b'{"msg":"no time at all","level":"WARN"}',
    b'{"msg":"a bad time","time":"yesterday"}',
    b'{"msg":"a bad source time stamp","@timestamp":"N/A","level":"info"}',
    b'{"msg":"a bad one first","timestamp":null,"time":"2026-11-20T10:00:00Z"}',
    b'{"msg":"out of range","ts":-5}',
    b'{"msg":"too late","time":"2200-01-01T00:00:00Z"}',
    b'{"msg":"a bool","asctime":true}',
]


def test_plain_lines_and_lines_without_a_time_are_compiled_as_python_processes_them() -> None:
    chain = native_chain_of()
    assert compare_block(chain, MUST_COMPILE) == list(range(len(MUST_COMPILE)))


def test_the_tags_of_such_lines_are_the_python_chains() -> None:
    chain = native_chain_of()
    lines = [b"not json", b"caf\xe9", b'{"msg":"caf\xe9","tags":"own"}', b'{"time":"soon"}', b'{"msg":"untimed"}']
    _, _, _, tags, declined, _, _ = chain.process_lines(lines, SOURCE_ID, PATH, 0, [], INGESTED, 1)
    assert declined == []
    assert tags == [
        ("_jsonparsefailure",),
        ("_utf8error", "_jsonparsefailure"),
        ("own", "_utf8error"),
        ("_dateparsefailure",),
        None,
    ]


def test_a_difference_on_such_lines_is_detected() -> None:
    """The comparison can fail: a chain writing another host name differs on every such line."""
    chain = native_chain_of("another-host")
    for line in MUST_COMPILE:
        with pytest.raises(AssertionError):
            compare_block(chain, [line])


def test_a_large_mixed_block_on_two_threads() -> None:
    chain = native_chain_of()
    lines = [line for pair in zip(_SAMPLE * 3, MUST_COMPILE * 30, strict=False) for line in pair]
    assert len(lines) >= 512  # the block is split over two threads
    compiled = compare_block(chain, lines, threads=2)
    assert set(range(1, len(lines), 2)) <= set(compiled), "every line of MUST_COMPILE is compiled"


@given(lines=st.lists(_LINE, min_size=1, max_size=12))
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_compiled_chain_never_differs_on_such_lines(lines: list[bytes]) -> None:
    compare_block(native_chain_of(), lines)
