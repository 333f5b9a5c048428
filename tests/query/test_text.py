"""DuckDB finds words in text where Elasticsearch's standard analyzer does, on what real loggers write.

The texts are the messages, error messages and stack traces of tests/corpus (written by structlog,
loguru, python-json-logger, winston, pino, slog and zap) after the real processor chain, plus a few
in other scripts. The words asked for are Elasticsearch's own tokens of them, pairs of consecutive
tokens, the pieces of dotted names (``payments`` of ``payments.py``), and prefixes with ``*``; every
answer is compared between a real Elasticsearch index and DuckDB running the compiled SQL.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from logferry.stages import DEFAULT_ORDER, PROCESSORS
from query.expr import Field, Kind, Term
from query.sql import compile_sql
from query.text import tokens

pytestmark = pytest.mark.integration
CORPUS = Path(__file__).resolve().parents[1] / "corpus"
TEXT_FIELDS = ("message", "error.message", "error.stack_trace")
MORE = [
    "O'Reilly’s café: naïve résumé, Straße",
    "日本語のログ abc日def エラー",
    "v1.2.3 released; 1,000 items at 10.0.0.1:8080 (x.1, 1.x, a:1)",
    "user_42 logged in via sso_provider._internal at 2026-03-10T10:00:00Z",
]


def logged_texts() -> list[str]:
    """Every text field of every corpus line, as the processor chain stores it."""
    chain = [PROCESSORS[name]() for name in DEFAULT_ORDER]
    texts: set[str] = set()
    for log in sorted(CORPUS.glob("*.log")):
        for offset, line in enumerate(log.read_bytes().splitlines()):
            event: Any = {"@raw": line, "@source_id": log.name, "log.file.path": str(log), "log.offset": offset}
            for step in chain:
                event = step(event)
            texts.update(event[name] for name in TEXT_FIELDS if isinstance(event.get(name), str) and event[name])
    return sorted(texts | set(MORE))


TEXTS = logged_texts()


@pytest.fixture(scope="module")
def es_texts(es_client: Any) -> Iterator[tuple[Any, str]]:
    index = f"t-text-{uuid.uuid4().hex[:10]}"
    es_client.indices.create(index=index, mappings={"properties": {"message": {"type": "text"}}})
    operations: list[Any] = []
    for i, text in enumerate(TEXTS):
        operations += [{"index": {"_index": index, "_id": str(i)}}, {"message": text}]
    es_client.bulk(operations=operations, refresh="wait_for")
    yield es_client, index
    es_client.indices.delete(index=index, ignore_unavailable=True)


def analyzed(es_client: Any, text: str) -> list[str]:
    return [t["token"] for t in es_client.indices.analyze(analyzer="standard", text=text)["tokens"]]


def test_the_corpus_has_stack_traces_and_dotted_names() -> None:
    assert sum("\n" in t for t in TEXTS) >= 5
    assert any(re.search(r"\w\.\w", t) for t in TEXTS)


def test_words_are_cut_as_elasticsearch_cuts_them(es_client: Any) -> None:
    for text in TEXTS:
        assert [w.lower() for w in tokens(text)] == analyzed(es_client, text), text


def queries(es_client: Any) -> list[tuple[str, bool]]:
    """(value, wildcard) pairs: tokens, consecutive pairs, pieces of dotted tokens, prefixes with *."""
    found: set[tuple[str, bool]] = set()
    for text in TEXTS:
        words = analyzed(es_client, text)
        found.update((w, False) for w in words)
        found.update((f"{a} {b}", False) for a, b in zip(words, words[1:], strict=False))
        for w in words:
            found.update((piece, False) for piece in re.split(r"[.:']", w) if piece)
            if len(w) > 3 and w[0].isalpha():
                found.add((w[:3] + "*", True))
    return sorted(found)


@pytest.fixture(scope="module")
def duck_texts() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.execute("CREATE TABLE events (i INTEGER, message VARCHAR)")
    con.executemany("INSERT INTO events VALUES (?, ?)", list(enumerate(TEXTS)))
    yield con
    con.close()


def duckdb_matches(con: duckdb.DuckDBPyConnection, value: str, wildcard: bool) -> set[int]:
    """What the DuckDB backend's SQL for ``message:value`` selects."""
    field = Field("message", Kind.TEXT, "message")
    where, params = compile_sql(Term(field, value.lower() if wildcard else value, wildcard))
    return {i for (i,) in con.execute(f"SELECT i FROM events WHERE {where}", params).fetchall()}


def es_matches(es_client: Any, index: str, asked: list[tuple[str, bool]]) -> list[set[int]]:
    """What Elasticsearch's ``match_phrase`` (``wildcard``) finds for each, asked 200 at a time."""
    answers: list[set[int]] = []
    for start in range(0, len(asked), 200):
        searches: list[Any] = []
        for value, wildcard in asked[start : start + 200]:
            query = (
                {"wildcard": {"message": {"value": value.lower()}}}
                if wildcard
                else {"match_phrase": {"message": value}}
            )
            searches += [{"index": index}, {"query": query, "size": len(TEXTS), "_source": False}]
        for response in es_client.msearch(searches=searches)["responses"]:
            assert "error" not in response, response
            answers.append({int(h["_id"]) for h in response["hits"]["hits"]})
    return answers


def test_duckdb_finds_what_elasticsearch_finds(
    es_texts: tuple[Any, str], duck_texts: duckdb.DuckDBPyConnection
) -> None:
    es_client, index = es_texts
    asked = queries(es_client)
    assert len(asked) > 300
    differ = []
    for (value, wildcard), expected in zip(asked, es_matches(es_client, index, asked), strict=True):
        got = duckdb_matches(duck_texts, value, wildcard)
        if got != expected:
            differ.append(f"{value!r}: Elasticsearch {sorted(expected)}, DuckDB {sorted(got)}")
    assert differ == [], f"{len(differ)} of {len(asked)} differ:\n" + "\n".join(differ[:20])
