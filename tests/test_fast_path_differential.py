"""The optimized processor chain writes, byte for byte, the documents the chain wrote before it was.

``tests/golden`` holds input lines (the realistic sample, the real-logger corpus, hypothesis-drawn
lines over every field name the processors read) and the documents the pre-optimization chain made of
them under two configurations; see ``tests/golden/chain_golden.py``. Any drift in any field fails.
"""

from __future__ import annotations

import functools
import gzip
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import services_required
from tests.golden.chain_golden import (
    _LINES,
    _NAMES,
    _VALUES,
    CONFIGS,
    CORPUS,
    EXPECTED,
    HOST,
    INGEST_TIME,
    INGESTED,
    INPUT,
    _json_line,
    build_chain,
    chain_settings,
    decode_input,
    document,
    source_event,
)

ROWS = [decode_input(row) for row in gzip.decompress(INPUT.read_bytes()).splitlines()]
EXPECTED_DOCS: dict[str, list[bytes]] = {name: [] for name in CONFIGS}
for _row in gzip.decompress(EXPECTED.read_bytes()).splitlines():
    _name, _, _doc = _row.partition(b"\t")
    EXPECTED_DOCS[_name.decode()].append(_doc)


def test_golden_corpus_covers_every_input_under_every_config() -> None:
    assert len(ROWS) > 5000
    assert all(len(docs) == len(ROWS) for docs in EXPECTED_DOCS.values())


@pytest.mark.parametrize("config_name", sorted(CONFIGS))
def test_chain_output_matches_the_pre_optimization_documents(config_name: str) -> None:
    chain = build_chain(chain_settings(config_name))
    mismatches = []
    for index, ((path, line), expected) in enumerate(zip(ROWS, EXPECTED_DOCS[config_name], strict=True)):
        got = document(chain, index, path, line)
        if got != expected:
            mismatches.append(f"#{index} {path} {line[:120]!r}\n  expected {expected[:400]!r}\n  got {got[:400]!r}")
    assert not mismatches, f"{len(mismatches)} documents drifted; first ones:\n" + "\n".join(mismatches[:5])


def test_a_changed_document_is_detected() -> None:
    """The comparison can fail: one processor left out changes documents of the corpus."""
    chain = [entry for entry in build_chain(chain_settings("default")) if entry[0] != "classify_status"]
    expected = EXPECTED_DOCS["default"]
    drifted = sum(document(chain, i, path, line) != expected[i] for i, (path, line) in enumerate(ROWS[:200]))
    assert drifted > 50


# ---------------------------------------------------------------------------------------------------
# The compiled chain (``native/``, ``ingest/native_chain.py``) against the Python chain, document for
# document: on the golden corpus, on the real loggers' corpus and on hypothesis-drawn lines. The
# compiled side may decline a line (the Python chain then processes it); it may never differ.

NATIVE_INGESTED = "2031-02-03T04:05:06.789Z"


def native_module() -> Any:
    """``logferry_native``; a checkout without it skips these tests, unless the run requires everything."""
    if services_required():
        import logferry_native

        return logferry_native
    return pytest.importorskip("logferry_native", reason="the compiled chain is not installed (pip install ./native)")


def native_document(chain: Any, index: int, path: str, line: bytes) -> bytes | None:
    """The compiled chain's document of one line (``None`` when declined), normalized as ``document``.

    A line without a readable time is stamped with the processing time: Python's clock there, the
    block's ``event.ingested`` here; both are normalized to ``INGEST_TIME``."""
    (result,), _ = chain.process([source_event(index, path, line)], NATIVE_INGESTED)
    if result is None:
        return None
    doc, stub = result
    shipped = orjson.loads(doc)
    assert shipped["event"]["id"] == stub["event.id"]
    assert shipped["@timestamp"] == stub["@timestamp"]
    if stub["@timestamp"] == NATIVE_INGESTED:
        stamp = b'"@timestamp":"' + NATIVE_INGESTED.encode() + b'"'
        doc = doc.replace(stamp, b'"@timestamp":"' + INGEST_TIME.encode() + b'"', 1)
    normalized, count = INGESTED.subn(b'"ingested":"' + INGEST_TIME.encode() + b'"', doc)
    assert count == 1
    return normalized


def test_native_chain_writes_the_golden_documents() -> None:
    chain = native_module().Chain(HOST)
    mismatches, declined = [], 0
    sample_rows = 0
    sample_declined = 0
    for index, ((path, line), expected) in enumerate(zip(ROWS, EXPECTED_DOCS["default"], strict=True)):
        got = native_document(chain, index, path, line)
        sample = path.startswith("/var/log/app/") and "log.file.path" in source_event(index, path, line)
        sample_rows += sample
        if got is None:
            declined += 1
            sample_declined += sample
        elif got != expected:
            mismatches.append(
                f"#{index} {path} {line[:160]!r}\n  expected {expected[:600]!r}\n  got      {got[:600]!r}"
            )
    assert not mismatches, f"{len(mismatches)} of {len(ROWS)} documents differ; first ones:\n" + "\n".join(
        mismatches[:5]
    )
    # The fast path must carry the common shapes, not decline its way to parity.
    assert sample_declined < sample_rows * 0.05, f"{sample_declined} of {sample_rows} sample lines declined"
    assert declined < len(ROWS)


def test_a_native_difference_is_detected() -> None:
    """The comparison can fail: the compiled chain with another host name differs on compiled lines."""
    chain = native_module().Chain("another-host")
    docs = [native_document(chain, i, path, line) for i, (path, line) in enumerate(ROWS[:200])]
    compared = [(doc, EXPECTED_DOCS["default"][i]) for i, doc in enumerate(docs) if doc is not None]
    assert len(compared) > 100
    assert all(doc != expected for doc, expected in compared)


def test_native_chain_agrees_on_the_real_loggers_corpus() -> None:
    """Every line of ``tests/corpus`` both ways, under the default config."""
    native = native_module().Chain(HOST)
    python = build_chain(chain_settings("default"))
    compared = 0
    for path in sorted(CORPUS.glob("*.log")):
        for index, line in enumerate(path.read_bytes().splitlines()):
            got = native_document(native, index, f"/var/log/corpus/{path.name}", line)
            if got is None:
                continue
            compared += 1
            assert got == document(python, index, f"/var/log/corpus/{path.name}", line), (path.name, index, line)
    assert compared > 0


_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=12,
)
_TIMES = st.sampled_from(
    ["2026-11-22T01:02:03.123Z", "2026-11-22 01:02:03:456", "2026-11-22T01:02:03,5+05:30", "1795348800", 1795348800123]
)
_TIMED_LINE = st.builds(
    lambda time, fields: _json_line({"time": time, **fields}),
    _TIMES,
    st.dictionaries(st.sampled_from(_NAMES), _VALUES, max_size=8),
)
"""Lines with a readable time: the compiled chain declines a line without one (its time is the ingest time)."""
_ANY_LINE = st.one_of(
    _LINES,
    _TIMED_LINE,
    st.dictionaries(st.sampled_from(_NAMES) | st.text(max_size=8), _ANY_JSON, max_size=8).map(_json_line),
    st.binary(max_size=40),
)


@given(line=_ANY_LINE, index=st.integers(min_value=0, max_value=10**6))
@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
def test_native_chain_never_differs_from_the_python_chain(line: bytes, index: int) -> None:
    line = line.replace(b"\n", b" ")
    path = "/var/log/fuzz/fuzz.log"
    got = native_document(default_chains()[0], index, path, line)
    if got is not None:
        assert got == document(default_chains()[1], index, path, line)


@functools.cache
def default_chains() -> tuple[Any, list[tuple[str, Any]]]:
    """The compiled and the Python chain under the default config, built once for all examples."""
    return native_module().Chain(HOST), build_chain(chain_settings("default"))


# ---------------------------------------------------------------------------------------------------
# The error fingerprint's Rust twin (``native/src/fingerprint.rs``, ``native/src/exception.rs``) against
# ``parsers.fingerprint`` on stacks drawn from the pieces every runtime prints, and on any text.

_STACK_LINES = st.sampled_from(
    [
        "Traceback (most recent call last):",
        '  File "/app/shop/pay.py", line 12, in charge',
        '  File "/usr/lib/python3.11/json/decoder.py", line 337, in decode',
        '  > File "/srv/rel-2/app.py", line 9, in <module>',
        "    raise PaymentDeclined(f'card {card}')",
        "    ^^^^^^^^^^",
        "PaymentDeclined: card 4242 declined",
        "shop.orders.Order.DoesNotExist: Order matching query does not exist.",
        "The above exception was the direct cause of the following exception:",
        "During handling of the above exception, another exception occurred:",
        "TypeError [ERR_INVALID_URL]: Invalid URL",
        "    at charge (/app/shop/pay.js:3:9)",
        "    at async Object.capture (file:///app/x.mjs:1:2)",
        "    at new URL (node:internal/url:806:29)",
        "    at /app/node_modules/json5/lib/parse.js:12:3",
        "    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:164:12) {",
        'Exception in thread "main" java.lang.IllegalStateException: pool 7 closed',
        "\tat com.example.Pool.get(Pool.java:42)",
        "\tat java.base/java.lang.Thread.run(Thread.java:840)",
        "Caused by: java.io.IOException: x",
        "\t... 3 more",
        "\tSuppressed: java.lang.Exception: y",
        "panic: runtime error: index out of range [5] with length 3 [recovered]",
        "\tpanic: again",
        "goroutine 1 [running]:",
        "main.lookup(...)",
        "\t/app/main.go:57",
        "panic({0x641f80?, 0xc3c8db283f0?})",
        "\t/usr/local/go/src/runtime/panic.go:860 +0x13a",
        "github.com/acme/shop/pay.(*Charger).Charge(0xc0, {0x4d2})",
        "\t/root/go/pkg/mod/github.com/acme@v1/pay.go:5 +0x1",
        "created by main.main in goroutine 1",
        "",
    ]
)
_STACKS = st.lists(_STACK_LINES | st.text(max_size=30), max_size=14).map("\n".join) | st.text(max_size=200)


@given(
    stack=st.none() | _STACKS,
    message=st.text(max_size=80) | _STACK_LINES,
    kind=st.none() | st.sampled_from(["PaymentDeclined", "shop.E", "", "Ü.x"]),
    frames=st.integers(min_value=1, max_value=3),
)
@settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_error_fingerprint_is_the_same_in_both_languages(
    stack: str | None, message: str, kind: str | None, frames: int
) -> None:
    from parsers.exception import exception_line
    from parsers.fingerprint import grouping

    native = native_module()
    assert native.error_grouping("svc", kind, message, stack, frames) == grouping("svc", kind, message, stack, frames)
    if stack is not None:
        assert native.exception_line(stack) == exception_line(stack)


ERROR_CORPUS = CORPUS / "errors"


def test_both_chains_give_the_real_programs_errors_the_same_grouping_key() -> None:
    """Every line of ``tests/corpus/errors`` (Python, Node and Go programs' exceptions, two releases):
    the compiled chain writes the Python chain's document, grouping key, title and culprit included,
    and declines few of them."""
    native = native_module().Chain(HOST)
    python = build_chain(chain_settings("default"))
    compared = declined = 0
    keys: set[str] = set()
    for path in sorted(ERROR_CORPUS.glob("*.log")):
        for index, line in enumerate(path.read_bytes().splitlines()):
            source = f"/var/log/errors/{path.name}"
            got = native_document(native, index, source, line)
            if got is None:
                declined += 1
                continue
            compared += 1
            expected = document(python, index, source, line)
            assert got == expected, (path.name, index, line[:300])
            keys.add(orjson.loads(got)["error"]["grouping_key"])
    assert compared > 1000 and declined < compared / 2, (compared, declined)
    assert len(keys) >= 20  # the corpus' 26 root causes, less those only in declined lines
