"""The golden corpus of the processor chain: input lines and the documents the chain made of them.

``python -m tests.golden.chain_golden`` wrote ``chain.input.log.gz`` and ``chain.expected.ndjson.gz``
ONCE, from the commit before the hot path was optimized (issue 10; parsers/, enrich/ and
ingest/document.py as of 099495f); the documents of the 119 inputs holding an integer beyond 64 bits
were written again (``--keep-inputs``) when such integers stopped turning into floats (issue 17: now
tagged ``_serializefailure``, their text in ``event.original``), and no other document changed; the differential test
(``tests/test_fast_path_differential.py``) replays the inputs through today's chain and compares every
document byte for byte, so any drift in output fails. Regenerating on purpose means the output was
meant to change: say so in the commit.

Inputs: the realistic sample (``logferry.sample``), every real-logger corpus line (``tests/corpus``),
and lines hypothesis generated (derandomized, so the set is reproducible) over the field names the
processors read, with values of every JSON type. Each line runs under two configurations: the
defaults, and one with per-path rules, routes, id patterns, an extra redaction pattern and renamed
alias lists. Two values depend on the run and are normalized on both sides: ``event.ingested`` (its
format is checked) and the ingest-time ``@timestamp`` of a line without a readable time.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.keys import RAW, SOURCE_ID
from core.tags import add_tag
from ingest.document import serialize
from logferry.config import Settings, load_settings
from logferry.sample import generate_lines
from logferry.stages import PROCESSORS
from parsers.timestamp import now_utc

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent / "corpus"
INPUT = HERE / "chain.input.log.gz"
EXPECTED = HERE / "chain.expected.ndjson.gz"
HOST = "golden-host"
SAMPLE_LINES = 3000
SAMPLE_END = 1_795_000_000.0
HYPOTHESIS_LINES = 2500
INGEST_TIME = "<ingest-time>"
INGESTED = re.compile(rb'"ingested":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"')

CONFIGS: dict[str, dict[str, Any]] = {
    "default": {"add_metadata": {"host_name": HOST}},
    "tuned": {
        "add_metadata": {"host_name": HOST},
        "apply_path_settings": {
            "rules": [
                {"paths": ["/var/log/corpus/winston-local.log"], "timezone": "America/New_York"},
                {"paths": ["/var/log/corpus/python-json-logger.log"], "timezone": "Europe/Berlin"},
                {"paths": ["/var/log/corpus/zap.*"], "service": "checkout", "tags": ["go-service"]},
                {"paths": ["/var/log/app/*"], "tags": ["app"], "timezone": "Asia/Kolkata"},
                {"paths": ["/var/log/fuzz/*"], "service": "fuzz", "timezone": "Europe/Berlin"},
            ]
        },
        "parse_timestamp": {"timezone": "Europe/Paris"},
        "template_endpoint": {
            "routes": ["/api/v1/chat/{chatId}/messages", "/api/v1/users/{userId}"],
            "id_patterns": ["user_[0-9]+", "[a-z]-[0-9a-f]{6}"],
        },
        "redact": {"extra_patterns": ["sk_live_[A-Za-z0-9]+"], "fields": ["password", "pin", "token"]},
        "map_common_fields": {"service": "default-svc", "user_id_fields": ["uid", "userId", "user.id"]},
        "tag_http": {"slow_request_ms": 100},
        "tag_error": {"levels": ["error", "warn"]},
    },
}

Processor = Callable[[dict[str, Any]], dict[str, Any] | None]


def chain_settings(name: str) -> Settings:
    return load_settings(None, processors=CONFIGS[name])


def build_chain(config: Settings) -> list[tuple[str, Processor]]:
    """The configured processors in order, as ``logferry.assemble.build_processors`` builds them."""
    return [(name, PROCESSORS[name](getattr(config.processors, name))) for name in config.pipeline]


def compiled_chain(config: str = "default", host: str = HOST) -> Any:
    """The compiled chain (``logferry_native.Chain``) of a configuration here, with host name ``host``."""
    from ingest.native_chain import raw_chain

    options = {**CONFIGS[config], "add_metadata": {"host_name": host}}
    return raw_chain(build_chain(load_settings(None, processors=options)))


def run_chain(chain: list[tuple[str, Processor]], event: dict[str, Any]) -> dict[str, Any] | None:
    """What ``Pipeline.process`` does with one event: a raising processor tags it, ``None`` drops it."""
    for name, processor in chain:
        try:
            result = processor(event)
        except Exception as exc:  # noqa: BLE001 - mirrors the pipeline: a processor bug tags, never stops
            add_tag(event, "_processorerror")
            event["logferry.processor_error"] = f"{name}: {type(exc).__name__}: {exc}"
            continue
        if result is None:
            return None
        event = result
    return event


def source_event(index: int, path: str, line: bytes) -> dict[str, Any]:
    """The event a source hands the chain; every 9th line comes from stdin (content-hashed id)."""
    if index % 9 == 8:
        return {RAW: line, SOURCE_ID: "stdin", "log.offset": index}
    return {RAW: line, SOURCE_ID: f"2049:{index % 5}:golden", "log.file.path": path, "log.offset": index * 100}


def document(chain: list[tuple[str, Processor]], index: int, path: str, line: bytes) -> bytes:
    """The shipped document of one line, with the run-dependent values normalized."""
    started = now_utc()
    event = run_chain(chain, source_event(index, path, line))
    ended = now_utc()
    if event is None:
        return b"null"
    stamp = event.get("@timestamp")
    if type(stamp) is str and started <= stamp <= ended:
        event["@timestamp"] = INGEST_TIME
        if event.get("log.file.path") is None:
            event["event.id"] = INGEST_TIME
    doc = serialize(event)
    normalized, count = INGESTED.subn(b'"ingested":"' + INGEST_TIME.encode() + b'"', doc)
    return normalized if count == 1 else doc


_NAMES = [
    "level",
    "severity",
    "log.level",
    "lvl",
    "levelname",
    "msg",
    "message",
    "event",
    "time",
    "timestamp",
    "@timestamp",
    "ts",
    "asctime",
    "method",
    "req.method",
    "request.method",
    "url",
    "path",
    "req.url",
    "req.path",
    "url.original",
    "url.path",
    "status",
    "statusCode",
    "status_code",
    "res.statusCode",
    "response.status",
    "responseTime",
    "response_time",
    "duration_ms",
    "latency",
    "elapsed_ms",
    "duration",
    "error",
    "err",
    "error.message",
    "error_message",
    "errorType",
    "exc_type",
    "stack",
    "stack_trace",
    "stacktrace",
    "exception",
    "exc_info",
    "panic",
    "errorVerbose",
    "userId",
    "user_id",
    "user.id",
    "user",
    "uid",
    "ip",
    "remote_addr",
    "client_ip",
    "req.remoteAddress",
    "client_port",
    "req.remotePort",
    "userAgent",
    "ua",
    "req.headers.user-agent",
    "trace_id",
    "traceId",
    "span_id",
    "service",
    "app",
    "service.name",
    "host",
    "host.name",
    "tags",
    "password",
    "api_key",
    "Authorization",
    "x-api-key",
    "prompt_tokens",
    "token",
    "cookie",
    "record",
    "text",
    "http",
    "log",
    "event.original",
    "endpoint",
    "@timezone",
    "@raw",
    "name",
    "type",
]
_TEXTS = st.sampled_from(
    [
        "",
        " ",
        "GET",
        "post",
        "/api/v1/users/42?tab=2",
        "https://example.com/a/b?c=d#f",
        "//x//y/",
        "/api/v1/orders/3f2a9c1e-5b7d-4e8f-9a6b-1c2d3e4f5a6b",
        "2026-11-22T01:02:03.123Z",
        "2026-11-22 01:02:03:456",
        "2026-11-22 01:02:03,456",
        "2026-11-22T01:02:03+0200",
        "1795348800",
        "1795348800123",
        "0001-01-01T00:00:00",
        "not a time",
        "200",
        "5xx",
        "1.5s",
        "250ms",
        "12µs",
        "1m2.5s",
        "WARNING",
        "30",
        "Bearer abc.def-ghi",
        "mail bob@example.com now",
        "card 4111 1111 1111 1111 ok",
        "order_4111111111111111",
        "?token=abc&x=1",
        "password=hunter2; user=x",
        "sk_live_ABC123",
        "TypeError: x is undefined\n    at f (a.js:1:2)",
        'Traceback (most recent call last):\n  File "a.py", line 1, in f\nValueError: bad',
        "10.0.0.1:8080",
        "[::1]:80",
        "::ffff:127.0.0.1",
        "u-1842",
        "user_77",
        "é ünïcode ✓",
    ]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 30, 50, 200, 404, 599, 1000, 1795348800, 1795348800123, 10**20]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([12.5, 1795348800.5, 0.012]),
    _TEXTS,
    st.text(max_size=12),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(_NAMES) | st.text(max_size=6), children, max_size=4),
    ),
    max_leaves=8,
)


def _json_line(value: dict[str, Any]) -> bytes:
    """orjson's bytes; the stdlib writes what orjson refuses (ints past 64 bits, lone surrogates)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value).encode()


_LINES = st.one_of(
    st.dictionaries(st.sampled_from(_NAMES), _VALUES, max_size=10).map(_json_line),
    st.sampled_from([b"not json at all", b"[1, 2]", b"42", b"", b'{"a": 1', b'\xff\xfe{"msg": "x"}', b"{}"]),
    st.binary(max_size=20),
)


def hypothesis_lines(count: int) -> list[bytes]:
    """``count`` lines drawn by hypothesis, the same every run (derandomized, no example database)."""
    drawn: list[bytes] = []

    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(_LINES)
    def draw(line: bytes) -> None:
        drawn.append(line.replace(b"\n", b" ").replace(b"\r", b" "))

    draw()
    return drawn


def inputs() -> Iterator[tuple[str, bytes]]:
    """``(log.file.path, line)`` of every golden input."""
    for service, line in generate_lines(SAMPLE_LINES, seed=11, end=SAMPLE_END):
        yield f"/var/log/app/{service}.log", line
    for path in sorted(CORPUS.glob("*.log")):
        for line in path.read_bytes().splitlines():
            yield f"/var/log/corpus/{path.name}", line
    for line in hypothesis_lines(HYPOTHESIS_LINES):
        yield "/var/log/fuzz/fuzz.log", line


def encode_input(path: str, line: bytes) -> bytes:
    """One input row: the path, a tab, the line as hex (lines may hold any byte)."""
    return path.encode() + b"\t" + line.hex().encode()


def decode_input(row: bytes) -> tuple[str, bytes]:
    path, _, hexed = row.partition(b"\t")
    return path.decode(), bytes.fromhex(hexed.decode())


def main(*, keep_inputs: bool = False) -> None:
    """Write both files; with ``keep_inputs`` (``--keep-inputs``) only the documents, from the stored inputs."""
    rows = (
        [decode_input(row) for row in gzip.decompress(INPUT.read_bytes()).splitlines()]
        if keep_inputs
        else list(inputs())
    )
    chains = {name: build_chain(chain_settings(name)) for name in CONFIGS}
    docs = []
    for name, chain in chains.items():
        for index, (path, line) in enumerate(rows):
            docs.append(name.encode() + b"\t" + document(chain, index, path, line))
    INPUT.write_bytes(gzip.compress(b"\n".join(encode_input(p, line) for p, line in rows) + b"\n", mtime=0))
    EXPECTED.write_bytes(gzip.compress(b"\n".join(docs) + b"\n", mtime=0))
    print(f"{len(rows)} inputs, {len(docs)} documents → {INPUT.name}, {EXPECTED.name}")


if __name__ == "__main__":
    import sys

    main(keep_inputs="--keep-inputs" in sys.argv[1:])
