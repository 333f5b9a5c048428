"""Property: whatever a line holds, the real pipeline (file source, the configured processor chain, the
serializer, a real DuckDB sink) stores it or dead-letters it with a reason, and never raises."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.metrics import REGISTRY
from logferry.assemble import assemble
from logferry.config import load_settings
from tests.ingest.helpers import stored_docs

pytestmark = pytest.mark.integration

TRICKY_KEYS = st.sampled_from(
    ["", "a", "a.b", "a.b.c", ".", "a..b", "@timestamp", "timestamp", "time", "level", "message", "msg", "tags"]
    + ["status", "url", "method", "error", "error.type", "user", "user.id", "http", "event", "event.original"]
    + ["log", "log.offset", "service", "host", "responseTime", "__proto__", "k" * 300]
)
KEYS = st.one_of(TRICKY_KEYS, st.text(max_size=12))
NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=2**63 - 4, max_value=2**80),
    st.integers(min_value=-(2**80), max_value=-(2**63) + 4),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e308, 5e-324, 0.0, -0.0]),
)
STRINGS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "null", "", "2026-13-45T99:99:99Z", "0001-01-01", "\u0000"]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, STRINGS)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=5)),
    max_leaves=20,
)


@st.composite
def deep(draw: st.DrawFn) -> str:
    """JSON text nested up to 1023 levels (orjson reads 1024, writes 255), objects or arrays."""
    depth = draw(st.integers(min_value=1, max_value=1022))
    key = json.dumps(draw(KEYS))
    if draw(st.booleans()):
        return f"{{{key}:" * depth + "1" + "}" * depth
    return "[" * depth + "1" + "]" * depth


@st.composite
def lines(draw: st.DrawFn) -> bytes:
    """One line: any JSON value (object or not), an object with a deep or odd field, or raw bytes."""
    kind = draw(st.sampled_from(["value", "object", "deep-field", "bytes"]))
    if kind == "value":
        return json.dumps(draw(VALUES)).encode()
    if kind == "bytes":
        # No NUL: the file source skips a file with a NUL in its first block as binary, by design.
        return draw(st.binary(min_size=1, max_size=60).filter(lambda b: not set(b) & set(b"\n\r\x00")))
    fields = draw(st.dictionaries(KEYS, VALUES, max_size=6))
    if draw(st.booleans()):
        fields["@timestamp"] = draw(st.one_of(st.just("2026-03-10T10:00:00.000Z"), VALUES))
    text = json.dumps(fields)
    if kind == "deep-field":
        extra = f"{json.dumps(draw(KEYS))}:{draw(deep())}"
        text = "{" + extra + ("," + text[1:] if len(text) > 2 else "}")
    return text.encode()


def dead_letters(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()] if path.exists() else []


def ingest(batch: list[bytes]) -> None:
    """Run the configured pipeline over a file of these lines; every line's offset must come back."""
    with tempfile.TemporaryDirectory(prefix="logferry-anyline-") as tmp:
        log = Path(tmp) / "app.log"
        log.write_bytes(b"\n".join(batch) + b"\n")
        offsets, at = [], 0
        for line in batch:
            offsets.append(at)
            at += len(line) + 1
        cfg = load_settings(None, data_dir=Path(tmp) / "data", input={"paths": [str(log)]})
        stats = assemble(cfg, once=True).run(once=True)

        stored = [d["log"]["offset"] for d in stored_docs(cfg.data_dir)]
        refused = dead_letters(cfg.resolve(cfg.duckdb.deadletter_file))
        assert all(r["reason"] for r in refused)
        assert sorted(stored + [r["event"]["log"]["offset"] for r in refused]) == offsets
        assert stats.lines == len(batch)


ODD_LINES = {
    "an array": b"[1, 2, 3]",
    "a bare number": b"42",
    "null": b"null",
    "a string": b'"just text"',
    "an object @timestamp": b'{"@timestamp": {"date": "2026-03-10"}, "message": "m"}',
    "tags holding an object": b'{"@timestamp": "2026-03-10T10:00:00Z", "tags": [{"a": 1}, 5, "x"]}',
    "tags as a number": b'{"@timestamp": "2026-03-10T10:00:00Z", "tags": 5}',
    "a dotted key colliding with an object": b'{"a.b": 1, "a": {"b": {"c": 2}}, "@timestamp": "2026-03-10T10:00:00Z"}',
    "an integer past 64 bits": b'{"n": 123456789012345678901234567890, "@timestamp": "2026-03-10T10:00:00Z"}',
    "a float at the edge": b'{"f": 1e308, "g": -1e308, "h": 5e-324}',
}


@pytest.mark.parametrize("name", list(ODD_LINES))
def test_an_odd_line_between_good_ones_is_kept(name: str) -> None:
    good = b'{"@timestamp": "2026-03-10T10:00:00Z", "message": "good"}'
    ingest([good, ODD_LINES[name], good])


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(lines(), min_size=1, max_size=6))
def test_every_line_is_stored_or_dead_lettered_with_a_reason(batch: list[bytes]) -> None:
    # A plain first line: a file opening with a compression magic is skipped as compressed, by design.
    ingest([b'{"message": "first"}', *batch])


def test_a_line_stored_salvaged_is_counted_by_its_tag() -> None:
    def tagged() -> float:
        return REGISTRY.get_sample_value("logferry_events_tagged_total", {"tag": "_serializefailure"}) or 0.0

    before = tagged()
    deep = '{"a":' * 400 + "1" + "}" * 400
    good = b'{"@timestamp": "2026-03-10T10:00:00Z", "message": "good"}'
    ingest([good, f'{{"@timestamp": "2026-03-10T10:00:01Z", "deep": {deep}}}'.encode(), good])
    assert tagged() - before == 1
