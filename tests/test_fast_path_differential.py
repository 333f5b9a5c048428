"""The processor chain writes, byte for byte, the documents it wrote before it was optimized, and the
compiled chain writes, field for field, what the Python chain writes, whatever the configuration.

``tests/golden`` holds input lines (the realistic sample, the real-logger corpus, hypothesis-drawn
lines over every field name the processors read) and the documents the pre-optimization chain made of
them under two configurations; see ``tests/golden/chain_golden.py``. Any drift in any field fails.

The compiled chain (``native/``, ``ingest/native_chain.py``) is held to the Python chain on the golden
corpus under both golden configurations and under ``bench.chain_configs.CHANGED`` (every option of
every processor changed), on the real loggers' lines and hypothesis-drawn lines, and under
hypothesis-drawn configurations; and each option alone, changed, must change the Python chain's
documents and the compiled chain's alike: a Rust step that ignores an option fails there. The
compiled side may decline a line (the Python chain then processes it); it may never differ.
"""

from __future__ import annotations

import gzip
import itertools
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import parsers.timestamp
from bench.chain_configs import CHANGED, OTHER_CHANGES, changed_value
from core.chunk import Chunk, Lines
from enrich.event_metrics import DEFAULT_BUCKETS, EventTally
from enrich.metadata import AddMetadata
from ingest.document import serialize
from ingest.native_chain import CompiledTransform, transform_for
from ingest.transform import CompiledRun, PythonTransform, Transform
from logferry.config import load_settings
from logferry.stages import DEFAULT_ORDER, PROCESSORS
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
# The compiled chain against the Python chain: both transforms over the same chunks, their documents
# compared whole. The times of processing are one fixed clock for both (``event.ingested``, and the
# ``@timestamp`` of a line without a readable time), so documents compare byte for byte.

NOW = 1_975_348_800.123
NOW_TEXT = AddMetadata(AddMetadata.Config(host_name=HOST), clock=lambda: NOW).ingested_now()


def native_module() -> Any:
    """``logferry_native``; a checkout without it skips these tests, unless the run requires everything."""
    if services_required():
        import logferry_native

        return logferry_native
    return pytest.importorskip("logferry_native", reason="the compiled chain is not installed (pip install ./native)")


@pytest.fixture
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python chain's clock for a line without a readable time, the same as every ``event.ingested``."""
    monkeypatch.setattr(parsers.timestamp, "now_utc", lambda: NOW_TEXT)


def processors_of(options: dict[str, Any], pipeline: list[str] | None = None) -> list[tuple[str, Any]]:
    """The configured processors, ``add_metadata``'s clock fixed at ``NOW``."""
    config = load_settings(None, processors=options, **({"pipeline": pipeline} if pipeline else {}))
    chain = []
    for name in config.pipeline:
        section = getattr(config.processors, name)
        processor = AddMetadata(section, clock=lambda: NOW) if name == "add_metadata" else PROCESSORS[name](section)
        chain.append((name, processor))
    return chain


def transforms(options: dict[str, Any], pipeline: list[str] | None = None) -> tuple[Transform, PythonTransform]:
    """The compiled transform of a configuration and, apart, its Python one."""
    native_module()
    compiled = transform_for(processors_of(options, pipeline), serialize)
    python = PythonTransform(processors_of(options, pipeline), serialize)
    if isinstance(compiled, CompiledTransform):
        compiled._ingested = lambda: NOW_TEXT
    return compiled, python


def blocks(rows: list[tuple[str, bytes]]) -> Iterator[Chunk]:
    """The rows as a file source hands them: a block per run of one file's lines (every 9th block as
    events from another source: stdin's content-hashed ids, a Kafka record's fields)."""
    for number, (path, run) in enumerate(itertools.groupby(rows, key=lambda row: row[0])):
        lines = Lines([line.replace(b"\n", b" ") for _, line in run], f"2049:{number % 5}:diff", path, 100 * number)
        if number % 9 == 8:
            events = [{**lines.event(i), "@source_id": "stdin"} for i in range(len(lines))]
            yield Chunk(("stdin", ""), events, 0, 0)
        else:
            yield Chunk.of_lines((lines.source_id, ""), lines, 0, 0)


def documents(transform: Transform, chunks: list[Chunk]) -> list[bytes]:
    """Every line's document, in order: compiled runs as written, the others serialized."""
    out: list[bytes] = []
    for chunk in chunks:
        for item in transform.process(chunk).items():
            if isinstance(item, CompiledRun):
                out.extend(item.docs)
            else:
                out.append(serialize(item))
    return out


def compare(options: dict[str, Any], rows: list[tuple[str, bytes]], pipeline: list[str] | None = None) -> int:
    """Both transforms over ``rows``: every document equal; how many lines ran compiled."""
    compiled, python = transforms(options, pipeline)
    got, expected = documents(compiled, list(blocks(rows))), documents(python, list(blocks(rows)))
    assert len(got) == len(expected) == len(rows)
    mismatches = [
        f"#{i} {rows[i][0]} {rows[i][1][:160]!r}\n  python   {e[:600]!r}\n  compiled {g[:600]!r}"
        for i, (g, e) in enumerate(zip(got, expected, strict=True))
        if g != e
    ]
    assert not mismatches, f"{len(mismatches)} of {len(rows)} documents differ; first ones:\n" + "\n".join(
        mismatches[:3]
    )
    return compiled.processed if isinstance(compiled, CompiledTransform) else 0


@pytest.mark.parametrize("config", ["default", "tuned", "changed"])
def test_the_compiled_chain_writes_the_python_chains_documents_on_the_golden_corpus(
    config: str, fixed_clock: None
) -> None:
    options = CHANGED if config == "changed" else CONFIGS[config]
    compiled = compare(options, ROWS)
    assert compiled > len(ROWS) * 0.7, f"only {compiled} of {len(ROWS)} lines ran compiled"


NATIVE_INGESTED = "2031-02-03T04:05:06.789Z"


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_the_compiled_chain_writes_the_golden_documents(config: str) -> None:
    """The documents the chain wrote before it was optimized, from the compiled chain itself; a line
    without a readable time is stamped with the block's ``event.ingested``, normalized as ``document``
    normalizes the Python chain's clock."""
    native_module()
    compiled = transform_for(build_chain(chain_settings(config)), serialize)
    assert isinstance(compiled, CompiledTransform) and compiled.writes_documents
    compiled._ingested = lambda: NATIVE_INGESTED
    stamp = b'"@timestamp":"' + NATIVE_INGESTED.encode() + b'"'
    mismatches, declined, sample_rows, sample_declined = [], 0, 0, 0
    for index, ((path, line), expected) in enumerate(zip(ROWS, EXPECTED_DOCS[config], strict=True)):
        parts = compiled.process(Chunk(("golden", ""), [source_event(index, path, line)], 0, 0))
        sample = path.startswith("/var/log/app/") and index % 9 != 8
        sample_rows += sample
        if parts.pending:
            declined += 1
            sample_declined += sample
            continue
        assert parts.compiled is not None
        doc = parts.compiled.docs[0].replace(stamp, b'"@timestamp":"' + INGEST_TIME.encode() + b'"', 1)
        doc = INGESTED.sub(b'"ingested":"' + INGEST_TIME.encode() + b'"', doc)
        if doc != expected:
            mismatches.append(
                f"#{index} {path} {line[:160]!r}\n  expected {expected[:600]!r}\n  got      {doc[:600]!r}"
            )
    assert not mismatches, f"{len(mismatches)} of {len(ROWS)} documents differ; first ones:\n" + "\n".join(
        mismatches[:5]
    )
    # The fast path must carry the common shapes, not decline its way to parity.
    assert sample_declined < sample_rows * 0.05, f"{sample_declined} of {sample_rows} sample lines declined"
    assert declined < len(ROWS) / 4


def test_a_native_difference_is_detected(fixed_clock: None) -> None:
    """The comparison can fail: against a Python chain with another host name, documents differ."""
    native_module()
    compiled = transform_for(processors_of({"add_metadata": {"host_name": "another-host"}}), serialize)
    python = PythonTransform(processors_of({"add_metadata": {"host_name": HOST}}), serialize)
    got, expected = documents(compiled, list(blocks(ROWS[:300]))), documents(python, list(blocks(ROWS[:300])))
    assert sum(g != e for g, e in zip(got, expected, strict=True)) > 250


def corpus_rows() -> list[tuple[str, bytes]]:
    return [
        (f"/var/log/corpus/{path.name}", line)
        for path in sorted(CORPUS.glob("*.log"))
        for line in path.read_bytes().splitlines()
    ]


@pytest.mark.parametrize("config", ["default", "tuned", "changed"])
def test_the_compiled_chain_agrees_on_the_real_loggers_corpus(config: str, fixed_clock: None) -> None:
    """Every line of ``tests/corpus`` both ways."""
    options = CHANGED if config == "changed" else CONFIGS[config]
    assert compare(options, corpus_rows()) > 0


_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=5),
    max_leaves=12,
)
_TIMES = st.sampled_from(
    [
        "2026-11-22T01:02:03.123Z",
        "2026-11-22 01:02:03:456",
        "2026-11-22T01:02:03,5+05:30",
        "2026-03-29 02:30:00",
        "2026-10-25T02:30:00.250",
        "1795348800",
        1795348800123,
    ]
)
_TIMED_LINE = st.builds(
    lambda time, fields: _json_line({"time": time, **fields}),
    _TIMES,
    st.dictionaries(st.sampled_from(_NAMES), _VALUES, max_size=8),
)
_ANY_LINE = st.one_of(
    _LINES,
    _TIMED_LINE,
    st.dictionaries(st.sampled_from(_NAMES) | st.text(max_size=8), _ANY_JSON, max_size=8).map(_json_line),
    st.binary(max_size=40),
)
_PATHS = st.sampled_from(["/var/log/fuzz/fuzz.log", "/var/log/app/api.log", "/srv/corpus/x.log", "relative.log"])
_ROWS = st.lists(st.tuples(_PATHS, _ANY_LINE), min_size=1, max_size=12)


@pytest.mark.parametrize("config", ["default", "changed"])
@given(rows=_ROWS)
@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_compiled_chain_never_differs_on_drawn_lines(
    config: str, rows: list[tuple[str, bytes]], fixed_clock: None
) -> None:
    compare(CHANGED if config == "changed" else {}, rows)


def test_an_integer_beyond_64_bits_is_tagged_with_its_text_kept_both_ways(fixed_clock: None) -> None:
    """The compiled chain's reader declines such a line; the Python chain keeps the integer whole and
    stores it as text in ``event.original``, tagged ``_serializefailure``: the same document either way."""
    rows = [
        ("/var/log/app/a.log", b'{"time":"2026-11-20T10:00:00Z","v":123456789012345678901234567890,"msg":"m"}'),
        ("/var/log/app/a.log", b'{"time":"2026-11-20T10:00:01Z","v":18446744073709551616,"level":"warn"}'),
        ("/var/log/app/a.log", b'{"time":"2026-11-20T10:00:02Z","ids":[-9223372036854775809],"msg":"m"}'),
    ]
    compiled, python = transforms({})
    assert isinstance(compiled, CompiledTransform)
    got, expected = documents(compiled, list(blocks(rows))), documents(python, list(blocks(rows)))
    assert got == expected and compiled.declined == len(rows)
    originals = [orjson.loads(doc)["event"]["original"] for doc in got]
    assert originals == [
        '{"v":123456789012345678901234567890}',
        '{"v":18446744073709551616}',
        '{"ids":[-9223372036854775809]}',
    ]
    assert all(orjson.loads(doc)["tags"] == ["_serializefailure"] for doc in got)


# ---------------------------------------------------------------------------------------------------
# Each option alone.


def options_of(model: type[BaseModel]) -> list[str]:
    return list(model.model_fields)


EVERY_OPTION = [(name, option) for name, cls in PROCESSORS.items() for option in options_of(cls.Config)]
NO_EFFECT_ON_DOCUMENTS = {("template_endpoint", "cache_size"): "how many templates are remembered"}

PROBES = [
    {"date": "2026-11-20 10:00:00", "msg": "the date field, read in Asia/Kolkata"},
    {"ts": "2026-11-20 10:00:00", "time": "2026-11-20T11:00:00Z", "msg": "ts comes first"},
    {"time": "2026-11-20T10:00:00Z", "loglevel": "NOTICE", "msg": "a level named loglevel"},
    {"time": "2026-11-20T10:00:00Z", "level": 70, "msg": "level 70"},
    {"time": "2026-11-20T10:00:00Z", "level": "alert", "log_message": "only a log_message"},
    {"time": "2026-11-20T10:00:00Z", "exception_info": {"kind": "Boom", "reason": "bad", "trace": "at x"}},
    {"time": "2026-11-20T10:00:00Z", "err_msg": "m", "error_class": "E", "backtrace": "b", "fatal_error": "f"},
    {"time": "2026-11-20T10:00:00Z", "verb": "GET", "uri": "/api/v1/users/42", "code": 201, "took": 3_000_000},
    {"time": "2026-11-20T10:00:00Z", "method": "POST", "url": "/api/v1/chat/7/messages", "responseTime": 1500},
    {"time": "2026-11-20T10:00:00Z", "method": "GET", "url": "/u/user_12/x/b-0a1b2c", "latency": 2.5},
    {"time": "2026-11-20T10:00:00Z", "uid": 7, "peer": "10.0.0.1:99", "peer_port": 80, "agent": "curl"},
    {"time": "2026-11-20T10:00:00Z", "x_trace": "t", "x_span": "s", "component": "c", "process": "p"},
    {"time": "2026-11-20T10:00:00Z", "msg": "pin=1234 key sk_live_abc token=x a@b.co", "pin": 1234},
    {"time": "2026-11-20T10:00:00Z", "tokenizer": "bpe", "password": "p", "msg": "Bearer abc"},
    {"time": "2026-11-20T10:00:00Z", "msg": "no host, no service"},
    {"time": "2026-11-20T10:00:00Z", "error": {"type": "E", "message": "m", "stack": "s"}},
    {"time": "2026-11-20T10:00:00Z", "level": "notice", "msg": "a level an alias names"},
    {"time": "2026-11-20T10:00:00Z", "exception_info": "boom"},
    {"time": "2026-11-20T10:00:00Z", "error": {"kind": "K", "reason": "r", "trace": "t"}},
    {"time": "2026-11-20T10:00:00Z", "verb": "GET", "url": "/v"},
    {"time": "2026-11-20T10:00:00Z", "method": "GET", "uri": "/u"},
    {"time": "2026-11-20T10:00:00Z", "method": "GET", "url": "/c", "code": 201, "took": 3_000_000},
    {
        "time": "2026-11-20T10:00:00Z",
        "level": "error",
        "msg": "boom",
        "stack": "Error: boom\n    at charge (/app/pay.js:1:1)\n    at route (/app/routes.js:2:2)",
    },
]


def probe_rows() -> list[tuple[str, bytes]]:
    """Lines each changed option changes the documents of: the probes, the corpus, golden rows."""
    probes = [(path, _json_line(probe)) for probe in PROBES for path in ("/var/log/app/a.log", "/x/corpus/b.log")]
    return probes + corpus_rows() + ROWS[:600] + ROWS[-400:]


def test_every_option_has_a_changed_value() -> None:
    """The recipe's last step: a new option needs a changed value in ``bench.chain_configs``."""
    for name, option in EVERY_OPTION:
        assert option in CHANGED.get(name, {}) or option in OTHER_CHANGES.get(name, {}), f"{name}.{option}"


@pytest.mark.parametrize(("processor", "option"), EVERY_OPTION, ids=[f"{p}.{o}" for p, o in EVERY_OPTION])
def test_each_option_changes_both_chains_alike(processor: str, option: str, fixed_clock: None) -> None:
    """The option changed alone changes the Python chain's documents, and the compiled chain's the
    same way: a compiled step that ignored it would still write the default documents."""
    rows = probe_rows()
    options = {processor: {option: changed_value(processor, option)}}
    compiled, python = transforms(options)
    assert isinstance(compiled, CompiledTransform), f"{processor}.{option} turns the compiled chain off"
    assert compiled.covered > DEFAULT_ORDER.index(processor), f"{processor}.{option} is not compiled"
    got, expected = documents(compiled, list(blocks(rows))), documents(python, list(blocks(rows)))
    assert got == expected
    if (processor, option) not in NO_EFFECT_ON_DOCUMENTS:
        _, default_python = transforms({})
        assert documents(default_python, list(blocks(rows))) != expected, f"the probes do not show {processor}.{option}"


# ---------------------------------------------------------------------------------------------------
# Configurations drawn by hypothesis: every processor's options, and the pipeline's order.

_NAME_POOL = sorted({*_NAMES, "uid", "peer", "date", "loglevel", "verb", "uri", "code", "kind", "a.b", "x.y.z"})
_ALIASES = st.lists(st.sampled_from(_NAME_POOL), max_size=5, unique=True)
_WORDS = st.sampled_from(
    ["", "info", "WARN", "notice", "Error", "fatal", "x", "err", "warning", "crit", "30", "trace", "DEBUG", "Alert"] * 3
    + ["é"]
)
"""Level names; a non-ASCII one (the compiled step refuses it: its Python twin runs) now and then."""
_ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"])
_REGEXES = st.sampled_from(
    ["user_[0-9]+", "[a-z]-[0-9a-f]{6}", r"\bsk_\w+", "(?i)bearer", "x{2,}", "a$", "(?=x)y", r"(\d)\1", "é+", "[^ ]+@x"]
)
_GLOBS = st.sampled_from(["*", "/var/log/fuzz/*", "*corpus*", "relative.log", "/nowhere/*"])


def _duration_spec(name: str, unit: str) -> str:
    return name if not unit else f"{name}:{unit}"


_OPTIONS: dict[str, Any] = {
    "decode_json": st.fixed_dictionaries({"target": st.none() | st.none() | st.none() | st.just("line")}),
    "apply_path_settings": st.fixed_dictionaries(
        {
            "rules": st.lists(
                st.fixed_dictionaries(
                    {
                        "paths": st.lists(_GLOBS, min_size=1, max_size=2),
                        "timezone": st.none() | _ZONES,
                        "service": st.none() | st.sampled_from(["billing", ""]),
                        "tags": st.lists(st.sampled_from(["legacy", "a", "_x"]), max_size=2),
                    }
                ),
                max_size=2,
            )
        }
    ),
    "parse_timestamp": st.fixed_dictionaries({"fields": _ALIASES, "timezone": _ZONES}),
    "parse_level": st.fixed_dictionaries(
        {
            "fields": _ALIASES,
            "aliases": st.dictionaries(_WORDS, _WORDS, max_size=3),
            "numeric": st.dictionaries(st.sampled_from([*range(-5, 80, 5), 10, 30, 50, 2**70]), _WORDS, max_size=3),
        }
    ),
    "parse_message": st.fixed_dictionaries({"fields": _ALIASES}),
    "tag_error": st.fixed_dictionaries(
        {
            "levels": st.lists(_WORDS, max_size=3),
            **{
                key: _ALIASES
                for key in (
                    "objects",
                    "object_type_keys",
                    "object_message_keys",
                    "object_stack_keys",
                    "message_fields",
                    "type_fields",
                    "stack_fields",
                    "panic_fields",
                )
            },
        }
    ),
    "tag_http": st.fixed_dictionaries(
        {
            "method_fields": _ALIASES,
            "url_fields": _ALIASES,
            "status_fields": _ALIASES,
            "duration_fields": st.lists(
                st.builds(_duration_spec, st.sampled_from(_NAME_POOL), st.sampled_from(["", "ms", "s", "ns", "us"])),
                max_size=4,
            ),
            "slow_request_ms": st.floats(0, 5000) | st.sampled_from([0, 1000, 2000]),
        }
    ),
    "map_common_fields": st.fixed_dictionaries(
        {
            **{
                key: _ALIASES
                for key in (
                    "user_id_fields",
                    "client_ip_fields",
                    "client_port_fields",
                    "user_agent_fields",
                    "trace_id_fields",
                    "span_id_fields",
                    "service_fields",
                )
            },
            "service": st.none() | st.sampled_from(["svc", ""]),
        }
    ),
    "fit_ecs_objects": st.fixed_dictionaries(
        {"homes": st.dictionaries(st.sampled_from(_NAME_POOL), st.sampled_from(_NAME_POOL), max_size=5)}
    ),
    "template_endpoint": st.fixed_dictionaries(
        {
            "routes": st.lists(
                st.sampled_from(["/api/v1/users/{id}", "/api/v1/chat/{c}/messages", "/{a}/{b}", "/", "/x/y/"]),
                max_size=3,
            ),
            "id_patterns": st.lists(_REGEXES, max_size=2),
            "cache_size": st.integers(0, 100),
        }
    ),
    "classify_status": st.just({}),
    "redact": st.fixed_dictionaries(
        {
            "enabled": st.booleans(),
            "fields": st.lists(st.sampled_from(["password", "token", "pin", "user", "-", "ké"]), max_size=3),
            "allow_fields": st.lists(st.sampled_from(["prompt_tokens", "token_count", "user_id", ""]), max_size=2),
            "patterns": st.booleans() | st.lists(st.sampled_from(["bearer", "email", "card", "query_secret"])),
            "extra_patterns": st.lists(_REGEXES, max_size=2),
            "mask": st.sampled_from(["[REDACTED]", "***", "", "é"]),
        }
    ),
    "fingerprint_error": st.fixed_dictionaries({"frames": st.integers(1, 16)}),
    "add_metadata": st.fixed_dictionaries(
        {"host_name": st.sampled_from(["h1", "é-host"]), "add_ingested": st.booleans()}
    ),
    "assign_id": st.just({}),
}
_CONFIGS = st.fixed_dictionaries({name: strategy for name, strategy in _OPTIONS.items()})
_PIPELINES = st.one_of(
    st.just(None),
    st.permutations(DEFAULT_ORDER[1:]).flatmap(
        lambda order: st.integers(len(order) // 2, len(order)).map(lambda n: ["decode_json", *order[:n]])
    ),
)


def test_every_processor_has_drawn_options() -> None:
    assert set(_OPTIONS) == set(PROCESSORS)


@given(options=_CONFIGS, pipeline=_PIPELINES, rows=st.lists(st.tuples(_PATHS, _ANY_LINE), min_size=1, max_size=8))
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
def test_drawn_configurations_give_the_same_documents_both_ways(
    options: dict[str, Any], pipeline: list[str] | None, rows: list[tuple[str, bytes]], fixed_clock: None
) -> None:
    probes = [(path, _json_line(probe)) for probe, path in zip(PROBES, itertools.cycle(["/var/log/fuzz/f.log"]))]
    compare(options, rows + probes[:4], pipeline)


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


@pytest.mark.parametrize("frames", [1, 3])
def test_both_chains_give_the_real_programs_errors_the_same_grouping_key(fixed_clock: None, frames: int) -> None:
    """Every line of ``tests/corpus/errors`` (Python, Node and Go programs' exceptions, two releases):
    the compiled chain writes the Python chain's document, grouping key, title and culprit included,
    and declines few of them."""
    rows = [
        (f"/var/log/errors/{path.name}", line)
        for path in sorted(ERROR_CORPUS.glob("*.log"))
        for line in path.read_bytes().splitlines()
    ]
    options = {"fingerprint_error": {"frames": frames}}
    compiled, python = transforms(options)
    assert isinstance(compiled, CompiledTransform) and compiled.writes_documents
    got = documents(compiled, list(blocks(rows)))
    assert got == documents(python, list(blocks(rows)))
    assert compiled.processed > 1000 and compiled.declined < compiled.processed / 2
    keys = {orjson.loads(doc).get("error", {}).get("grouping_key") for doc in got} - {None}
    assert len(keys) >= 20  # the corpus' 26 root causes


# ---------------------------------------------------------------------------------------------------
# The metrics made from events (``enrich/event_metrics.py``): the compiled chain counts the lines whose
# documents it writes (``native/src/facts.rs``, ``Parts.facts``); with what the Python processors
# finish, counted as ``EventTally.observe`` counts them, that must be what the Python transform counts.


def tallies(transform: Transform, chunks: list[Chunk]) -> dict[Any, Any]:
    """What a pipeline counts of ``chunks``: the facts that come with the parts, the finished events."""
    tally = EventTally()
    for chunk in chunks:
        parts = transform.process(chunk)
        for item in parts.items():
            if isinstance(item, CompiledRun):
                assert parts.facts is not None, "compiled documents without their facts"
            else:
                tally.observe(item)
        tally.add_facts(parts.facts or [])
    return tally.take()


def counting_transforms(options: dict[str, Any]) -> tuple[Transform, PythonTransform]:
    native_module()
    compiled = transform_for(processors_of(options), serialize, DEFAULT_BUCKETS)
    assert isinstance(compiled, CompiledTransform) and compiled.counts_facts
    compiled._ingested = lambda: NOW_TEXT
    return compiled, PythonTransform(processors_of(options), serialize)


@pytest.mark.parametrize("config", ["default", "tuned", "changed"])
def test_the_compiled_chain_counts_the_metrics_the_python_chain_counts_on_the_golden_corpus(
    config: str, fixed_clock: None
) -> None:
    compiled, python = counting_transforms(CHANGED if config == "changed" else CONFIGS[config])
    got = tallies(compiled, list(blocks(ROWS)))  # blocks apart: the Python processors change events in place
    assert got == tallies(python, list(blocks(ROWS)))
    assert sum(n for n, _, _ in got.values()) == len(ROWS)
    assert isinstance(compiled, CompiledTransform) and compiled.processed > len(ROWS) * 0.7


def test_a_difference_in_the_counted_metrics_is_detected(fixed_clock: None) -> None:
    """The comparison can fail: counted without ``template_endpoint`` in Python, endpoints differ."""
    compiled, _ = counting_transforms({})
    python = PythonTransform([step for step in processors_of({}) if step[0] != "template_endpoint"], serialize)
    assert tallies(compiled, list(blocks(ROWS[:400]))) != tallies(python, list(blocks(ROWS[:400])))


def test_a_compiled_chain_without_buckets_counts_nothing() -> None:
    native_module()
    compiled = transform_for(processors_of({}), serialize)
    assert isinstance(compiled, CompiledTransform) and not compiled.counts_facts
    parts = compiled.process(next(blocks(ROWS[:50])))
    assert parts.facts is None and native_module().take_facts() == []


@pytest.mark.parametrize("config", ["default", "changed"])
@given(rows=_ROWS)
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_counted_metrics_never_differ_on_drawn_lines(
    config: str, rows: list[tuple[str, bytes]], fixed_clock: None
) -> None:
    compiled, python = counting_transforms(CHANGED if config == "changed" else {})
    assert tallies(compiled, list(blocks(rows))) == tallies(python, list(blocks(rows)))
