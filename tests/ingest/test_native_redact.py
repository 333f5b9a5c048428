"""The compiled chain redacts (``native/src/steps/redact.rs``) exactly as the Python ``Redact`` does: the
same documents, byte for byte, and the same count of masked values, which reaches the redaction metric.

Lines are drawn to hit every rule where it is easy to get wrong: secret names (``password``,
``apiKey``, ``X-Api-Key``, allowed ``prompt_tokens``) at the top, nested and in lists; strings made of
emails, bearer tokens in mixed case, card numbers valid or not by Luhn with spaces, dashes and word
characters or UUIDs beside them, ``key=value`` pairs in URLs and free text, many candidates in one
string and candidates that overlap, non-ASCII names. The compiled chain may decline a line only for
non-ASCII text (Unicode classes it leaves to Python); any other decline fails.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import metrics
from core.chunk import Chunk, Lines
from core.outcomes import REDACTED
from enrich.redact import Redact, luhn_valid
from ingest.batch import Batcher
from ingest.document import serialize
from ingest.file_source import FileSource
from ingest.kafka_wire import ShippedLines, event_from_record, record_headers
from ingest.native_chain import CompiledTransform, transform_for
from ingest.pipeline import Pipeline
from ingest.registry import Registry
from ingest.transform import CompiledRun, Parts, PythonTransform
from logferry.assemble import build_processors, processors_for
from logferry.config import load_settings
from logferry.sample import generate_lines
from tests.golden.chain_golden import HOST, INGEST_TIME, INGESTED, build_chain, chain_settings, run_chain
from tests.ingest.test_native_lines import native_chain_of, native_module
from tests.ingest.test_native_pipeline import KeepingSink, without_run_times

NATIVE_INGESTED = "2031-02-03T04:05:06.789Z"
SOURCE_ID = "2049:7:redact"
PATH = "/var/log/app/redact.log"
TIME = "2026-11-22T01:02:03.123Z"

# ------------------------------------------------------------------ generated text


def with_luhn_check_digit(body: str) -> str:
    return next(body + digit for digit in "0123456789" if luhn_valid(body + digit))


_DIGITS = st.text("0123456789", min_size=11, max_size=19)
_CARDS = st.one_of(
    _DIGITS.map(with_luhn_check_digit),  # valid by Luhn, 12-20 digits (13-19 is a card's length)
    _DIGITS,  # valid about one time in ten
).flatmap(
    lambda number: st.sampled_from(["", " ", "-", "  ", "--"]).map(
        lambda separator: separator.join(number[i : i + 4] for i in range(0, len(number), 4))
    )
)
_EMAILS = st.builds(
    lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
    st.text("abz09._%+-", min_size=1, max_size=6),
    st.lists(st.text("abcxyZ09-", min_size=0, max_size=4), min_size=1, max_size=4),
    st.text("abcdZ1-", min_size=0, max_size=4),
)
_BEARERS = st.builds(
    lambda word, space, token, padding: f"{word}{space}{token}{padding}",
    st.tuples(*(st.sampled_from([c, c.upper()]) for c in "bearer")).map("".join),
    st.sampled_from(["", " ", "  ", "\t", "\x0b", "\x1c", "\n"]),
    st.text("aZ9-._~+/=[]@", min_size=0, max_size=8),
    st.sampled_from(["", "=", "==", "=x"]),
)
_KEYS = st.sampled_from(
    [
        "token",
        "access_token",
        "password",
        "apiKey",
        "X-Api-Key",
        "prompt_tokens",
        "usage.total_tokens",
        "page",
        "a.b[0]",
        "secretary",
        "tokenizer",
        "x",
        "",
    ]
)
_PAIRS = st.builds(
    lambda key, value: f"{key}={value}",
    _KEYS,
    st.sampled_from(["", "abc", "a=b", "[REDACTED]", "[REDACTED]x", "4111111111111111", "a@b.co", "Bearer x"]),
)
_UUIDS = st.uuids().map(str) | st.builds(
    lambda a, b, c, d: f"{a}-{b}-{c}-{d}-8f6b1c2d3e4f",
    st.text("0123456789abcdef", min_size=8, max_size=8),
    *(st.text("0123456789", min_size=4, max_size=4) for _ in range(3)),
)
_GLUE = st.sampled_from(
    [" ", "", "&", "?", "#", ";", ",", "'", '"', "=", "-", "_", "x", ".", "@", "/", "1", "\t", "[REDACTED]", "é", "K"]
)
_PIECES = st.one_of(_CARDS, _EMAILS, _BEARERS, _PAIRS, _UUIDS, _GLUE, _GLUE, st.text(max_size=4))
TEXTS = st.lists(_PIECES, min_size=1, max_size=8).map("".join)

# ------------------------------------------------------------------ generated lines

_NAMES = st.sampled_from(
    [
        "msg",
        "note",
        "url",
        "query",
        "password",
        "db_password",
        "apiKey",
        "X-Api-Key",
        "prompt_tokens",
        "usage.total_tokens",
        "Authorization",
        "cookie",
        "ctx",
        "tags",
        "log",
        "log.logger",
        "trace.id",
        "user.email",
        "TO\u212aEN",  # Kelvin sign: "token" once lowercased
        "\u0130apikey",
        "prompt_to\u212aens",  # allowed once lowercased
        "p\u00e4ssword_hash",
        "usu\u00e1rio",
    ]
)
_SCALARS = st.one_of(TEXTS, TEXTS, st.none(), st.booleans(), st.integers(-5, 10**16), st.just(""), st.just(1.5))
VALUES = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_NAMES, children, max_size=3),
    max_leaves=6,
)
LINES = st.dictionaries(_NAMES, VALUES, max_size=5).map(lambda fields: orjson.dumps({"time": TIME, **fields}))

# ------------------------------------------------------------------ the two chains


@functools.cache
def chains() -> tuple[Any, list[tuple[str, Any]], Redact]:
    """The compiled chain, and the Python chain with its Redact (built once for all examples)."""
    python = build_chain(chain_settings("default"))
    redact = dict(python)["redact"]
    assert isinstance(redact, Redact)
    return native_chain_of(), python, redact


def python_result(line_event: dict[str, Any]) -> tuple[bytes, dict[str, Any], int]:
    """The Python chain's document (run times normalized), event and count of redactions of one event."""
    _, python, redact = chains()
    before = redact.redactions
    event = run_chain(python, line_event)
    assert event is not None
    doc = INGESTED.sub(b'"ingested":"' + INGEST_TIME.encode() + b'"', serialize(event))
    return doc, event, redact.redactions - before


def string_tags(tags: Any) -> tuple[str, ...] | None:
    """The tags the compiled chain reports: the string ones, as a tuple; None for none."""
    if type(tags) is str:
        return (tags,)
    found = tuple(tag for tag in tags if type(tag) is str) if type(tags) is list else ()
    return found or None


def compare_block(lines: list[bytes]) -> tuple[int, int, int]:
    """Every line of the block both ways: the compiled lines must be the Python chain's, and declined
    only for non-ASCII text. Returns (compiled lines, declined lines, redactions in compiled lines)."""
    native = chains()[0]
    block = Lines(lines, SOURCE_ID, PATH, 4096)
    docs, stamps, ids, tags, declined, _, redacted = native.process_lines(
        block.lines, block.source_id, block.path, block.first_offset, [], NATIVE_INGESTED, 1
    )
    redactions = 0
    for index, line in enumerate(lines):
        if index in declined:
            assert not line.isascii(), f"an ASCII line was declined: {line!r}"
            assert index not in redacted
            continue
        expected_doc, event, expected_count = python_result(block.event(index))
        got_doc = INGESTED.sub(b'"ingested":"' + INGEST_TIME.encode() + b'"', docs[index])
        assert got_doc == expected_doc, line
        assert (stamps[index], ids[index]) == (event["@timestamp"], event["event.id"])
        assert tags[index] == string_tags(event.get("tags"))
        assert redacted.get(index, 0) == expected_count, line
        redactions += expected_count
    return len(lines) - len(declined), len(declined), redactions


@given(st.lists(LINES, min_size=1, max_size=4))
@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_compiled_chain_redacts_what_the_python_chain_redacts(lines: list[bytes]) -> None:
    compare_block(lines)


@given(TEXTS)
@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_pattern_in_a_message_is_masked_as_in_python(text: str) -> None:
    """One string at a time, where each pattern and their order show most directly."""
    compare_block([orjson.dumps({"time": TIME, "msg": text}), orjson.dumps({"time": TIME, "url": f"/p?{text}"})])


CRAFTED = [
    {"msg": "Authorization: Bearer eyJhbGciOi.J9.eyJzdWIi-_x== and BeArEr abc"},
    {"msg": "authorization=bearer abc123 rest", "note": "to: a.b+tag@mail.co.uk, cc: x_y@sub.example.org"},
    {"msg": "paid 4111 1111 1111 1111, 4111-1111-1111-1112, ts 14111111111111111, 378282246310005"},
    {"url": "/cb?code=1&access_token=zz#frag&page=2&prompt_tokens=5&password=x;y"},
    {"url": "/api/v1/orders/7c1e2f3a-4539-1488-0343-6467b5a7b3c9?ref=4539-1488-0343-6467b5a7"},
    {"password": "p", "X-Api-Key": {"k": 1}, "cookie": "", "token": True, "prompt_tokens": 12},
    {"ctx": {"items": [{"x": "a@b.co"}, {"apiKey": "s"}], "deep": [[{"b": {"passwd": 7}}]]}},
    {"log": "docker line token=abc", "log.logger": "a@b.co", "trace.id": "a@b.co", "tags": ["x@y.io"]},
    {"msg": "x@y@example.com a@example.com9@x.io a@b.cd-ef.g Bearer abc=token=x"},
    {"msg": "é token=abc"},  # non-ASCII beside a key=value scan: declined, the Python chain redacts it
    {"msg": "é a@b.co Bearer x 4111111111111111"},  # non-ASCII without one: compiled
]


def test_crafted_lines_and_their_counts() -> None:
    lines = [orjson.dumps({"time": TIME, **fields}) for fields in CRAFTED]
    compiled, declined, redactions = compare_block(lines)
    assert (compiled, declined) == (len(CRAFTED) - 1, 1)
    assert redactions == 24


def test_the_sample_corpus_is_redacted_compiled() -> None:
    """The benchmark's realistic lines: those with something to mask run compiled, as Python."""
    lines = [line for _, line in generate_lines(20_000, seed=7)]
    compiled = declined = redactions = 0
    for start in range(0, len(lines), 2000):
        block = [line for line in lines[start : start + 2000] if b"\n" not in line]
        native = chains()[0]
        docs, _, _, _, block_declined, _, redacted = native.process_lines(
            block, SOURCE_ID, PATH, 4096, [], NATIVE_INGESTED, 2
        )
        for index in redacted:
            expected_doc, _, expected_count = python_result(Lines(block, SOURCE_ID, PATH, 4096).event(index))
            assert INGESTED.sub(b'"ingested":"' + INGEST_TIME.encode() + b'"', docs[index]) == expected_doc
            assert redacted[index] == expected_count
            compiled += 1
            redactions += expected_count
        declined += len(block_declined)
    assert compiled > 100 and redactions >= compiled
    assert declined < len(lines) * 0.01


def test_a_redaction_difference_is_detected() -> None:
    """The comparison can fail: against a Python chain with another mask, every redacted line differs."""
    native = chains()[0]
    other = build_chain(chain_settings("default"))
    other = [(name, Redact(Redact.Config(mask="***")) if name == "redact" else step) for name, step in other]
    lines = [orjson.dumps({"time": TIME, **fields}) for fields in CRAFTED]
    block = Lines(lines, SOURCE_ID, PATH, 4096)
    docs, _, _, _, declined, _, redacted = native.process_lines(lines, SOURCE_ID, PATH, 4096, [], NATIVE_INGESTED, 1)
    assert len(redacted) == len(lines) - len(declined) - 1  # the UUIDs line has nothing to mask
    for index in redacted:
        event = run_chain(other, block.event(index))
        assert event is not None
        expected = INGESTED.sub(b'"ingested":"' + INGEST_TIME.encode() + b'"', serialize(event))
        assert INGESTED.sub(b'"ingested":"' + INGEST_TIME.encode() + b'"', docs[index]) != expected


# ------------------------------------------------------------------ the count, end to end


def redactions(steps: list[tuple[str, Any]], *parts: Parts) -> int:
    """What the chain's ``Redact`` processor counted itself, and what the compiled chain said it
    masked in ``parts``."""
    redact = dict(steps)["redact"]
    assert isinstance(redact, Redact)
    return redact.redactions + sum(each.counts.get(("redact", REDACTED, "secret"), 0) for each in parts)


def finished(parts: Parts) -> list[Any]:
    """Every line of ``parts``, the pending ones finished by the Python processors."""
    return [item for item in parts.items() if not isinstance(item, CompiledRun)]


def metric(component: str) -> float:
    labels = {"component": component, "outcome": REDACTED, "reason": "secret"}
    return metrics.REGISTRY.get_sample_value("logferry_component_events_total", labels) or 0.0


@pytest.mark.integration
def test_the_redaction_metric_counts_compiled_lines_as_the_python_chain_would(tmp_path: Path) -> None:
    native_module()
    log = tmp_path / "app.log"
    crafted = [orjson.dumps({"time": TIME, **fields}) for fields in CRAFTED]
    log.write_bytes(b"".join(line + b"\n" for line in [line for _, line in generate_lines(4000, seed=7)] + crafted))

    python_settings = load_settings(None, data_dir=tmp_path / "python", input={"paths": [str(log)]})
    python_steps = build_processors(python_settings)
    python = Pipeline(
        FileSource(python_settings.input, Registry(python_settings.data_dir / "registry.json"), once=True),
        PythonTransform(python_steps, serialize),
        Batcher(python_settings.batch),
        python_sink := KeepingSink(),
    )
    before = metric("redact")
    python.run(once=True)
    expected = redactions(python_steps)
    assert expected > 40
    assert metric("redact") - before == expected

    compiled_settings = load_settings(None, data_dir=tmp_path / "compiled", input={"paths": [str(log)]})
    compiled = Pipeline(
        FileSource(compiled_settings.input, Registry(compiled_settings.data_dir / "registry.json"), once=True),
        build_processors(compiled_settings),
        Batcher(compiled_settings.batch),
        compiled_sink := KeepingSink(),
    )
    assert isinstance(compiled.transform, CompiledTransform)
    before = metric("redact")
    compiled.run(once=True)
    assert metric("redact") - before == expected
    assert compiled.transform.processed > 3900
    assert [without_run_times(doc) for doc in compiled_sink.docs] == [
        without_run_times(doc) for doc in python_sink.docs
    ]


INDEXER = load_settings(None, source={"type": "kafka"}, processors={"add_metadata": {"host_name": HOST}})
SHIPPED = [
    orjson.dumps({"time": TIME, "msg": "mail a@b.co", "password": "p"}),
    orjson.dumps({"time": TIME, "msg": "forged a@b.co", "@shipper_host": "forged", "token": "t"}),
    orjson.dumps({"time": TIME, "msg": "nothing to mask"}),
    orjson.dumps({"time": TIME, "url": "/x?token=1&api_key=2"}),
    b'{"time":"' + TIME.encode() + b'","msg":"a key twice: declined","msg":"x@y.io"}',
]
"""Shipped lines with 2 + 2 + 0 + 2 + 1 redactions; the last is declined (the Python chain redacts it)."""


def indexer_transform() -> tuple[CompiledTransform, list[tuple[str, Any]]]:
    steps = processors_for(INDEXER)
    transform = transform_for(steps, serialize)
    assert isinstance(transform, CompiledTransform) and transform.writes_documents
    return transform, steps


def test_the_indexers_chain_counts_each_redaction_once() -> None:
    """A record the indexer's compiled chain declines is counted by the Python chain, the others by
    the compiled one: each once (a line's own ``@shipper_host`` is the shipper's, as in Python)."""
    native_module()
    hosts = [b"shipper-a", b"shipper-b", b"shipper-a", b"shipper-b", b"shipper-a"]
    events = [
        event_from_record(line, record_headers({"@source_id": "2049:1:kafka", "log.offset": i}, host), "t", 0, i)
        for i, (line, host) in enumerate(zip(SHIPPED, hosts, strict=True))
    ]
    python_steps = processors_for(INDEXER)
    for event in events:
        run_chain(python_steps, copy.deepcopy(event))
    expected = redactions(python_steps)
    assert expected == 7

    transform, steps = indexer_transform()
    parts = transform.process(Chunk(("t:0", ""), events, len(events), 0))
    assert parts.pending == [4]
    finished(parts)
    assert redactions(steps, parts) == expected


def test_the_indexers_runs_of_lines_count_each_redaction_once() -> None:
    """The same for a run of one shipper's plain lines (``ShippedLines``)."""
    native_module()
    block = ShippedLines(SHIPPED, "2049:1:kafka", PATH, 0, "shipper-a")
    python_steps = processors_for(INDEXER)
    for index in range(len(block)):
        run_chain(python_steps, block.event(index))
    expected = redactions(python_steps)
    assert expected == 7

    transform, steps = indexer_transform()
    parts = transform.process(Chunk.of_lines(("t:0", ""), block, len(block), 0))
    assert parts.pending == [4]
    finished(parts)
    assert redactions(steps, parts) == expected
