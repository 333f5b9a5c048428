"""The compiled reader of the store's columns (``native/src/columns.rs``) reads what the Python one reads.

Both read every column of ``store.schema.COLUMNS`` from shipped documents; the compiled one is what
``ingest`` runs, the Python one runs without the extension and for the rows the compiled one leaves.
They are compared on the real loggers' corpus through the default chain, and on documents written to
trip a reader: every JSON type at every column, escapes, times in each form the compiled reader takes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from ingest.document import serialize
from store.columns import DocReader

native = pytest.importorskip("logferry_native")

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -7,
    2**53,
    2**63 - 1,
    1.5,
    -0.0,
    1e300,
    "",
    "x",
    " 42 ",
    "2.5",
    'é\n"q"\u2028',
    [],
    [1, "a", None, [2]],
    {"a": {"b": 1}},
]
FIELDS = [
    "event.id",
    "log.level",
    "tags",
    "user.id",
    "http.response.status_code",
    "event.duration",
    "message",
    "log.offset",
    "error.message",
    "http.request.method",
]
TIMES = [
    "2026-11-20T10:00:00.000Z",
    "2026-11-20T10:00:00Z",
    "2026-11-20 10:00:00.123456789+02:00",
    "2026-11-20T23:59:59.5-0530",
    "2026-11-20T10:00+01",
    "2026-11-20",
    "2026-02-29T00:00:00Z",
    "2026-11-20Tnot-a-time",
    "yesterday",
    12,
]


def nested(dotted: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    node = out
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value
    return out


def awkward_docs() -> list[bytes]:
    docs = []
    for i, field in enumerate(FIELDS):
        for j, value in enumerate(VALUES):
            doc = {"@timestamp": TIMES[(i + j) % len(TIMES)], **nested(field, value)}
            docs.append(orjson.dumps(doc))
    docs += [
        b'{"@timestamp":"2026-11-20T10:00:00Z","message":"a\\u00e9\\ud83d\\ude00\\/\\t","log":{"level":"x","level":"y"}}'
    ]
    docs += [b'{"@timestamp":"2026-11-20T10:00:00Z", "log" : { "level" : "spaced" } }', b"[1,2]", b"not json"]
    return docs


def corpus_docs() -> list[bytes]:
    from logferry.assemble import build_processors
    from logferry.config import load_settings

    chain = build_processors(load_settings(None))
    docs = []
    for path in sorted(CORPUS.glob("*.log")):
        for offset, line in enumerate(path.read_bytes().splitlines()):
            event: dict[str, Any] = {
                "@raw": line,
                "@source_id": path.name,
                "log.file.path": str(path),
                "log.offset": offset,
            }
            for _, step in chain:
                event = step(event)
            docs.append(serialize(event))
    return docs


def read(reader: DocReader, docs: list[bytes]) -> tuple[dict[str, Any], list[int], list[tuple[int, str]]]:
    rows = reader.read(docs, (1, 2, len(docs) // 2), [(len(docs) // 3, "a-source", 100)])
    return {str(day): table.to_pylist() for day, table in sorted(rows.days.items())}, rows.no_day, rows.refused


@pytest.mark.parametrize("docs", [awkward_docs(), corpus_docs()], ids=["awkward", "corpus"])
def test_the_compiled_reader_reads_what_the_python_reader_reads(docs: list[bytes]) -> None:
    compiled, python = DocReader(compiled=True), DocReader(compiled=False)
    assert compiled.native is not None and python.native is None
    days, no_day, refused = read(compiled, docs)
    assert sum(len(rows) for rows in days.values()) > len(docs) // 2
    assert (days, no_day, sorted(i for i, _ in refused)) == (lambda r: (r[0], r[1], sorted(i for i, _ in r[2])))(
        read(python, docs)
    )
