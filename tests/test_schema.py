"""One schema table (``core/schema.py``): the Elasticsearch mapping and the query fields derive from it,
the store's typed columns are what it says, every ECS field a processor writes is in it, and the compiled
chain's generated tables (``native/src/names.rs``, ``native/src/default_chain.json``) are current."""

from __future__ import annotations

import re

from core.keys import INTERNAL_KEYS
from core.schema import BY_NAME, DUCKDB_COLUMNS, FIELDS, UNMAPPED_WRITES, duckdb_columns
from elastic.templates import ECS_MAPPINGS, index_template
from logferry.native_tables import DEFAULT_CHAIN_JSON, NAMES_RS, default_chain_json, names_rs
from logferry.stages import PROCESSORS
from query.expr import Kind
from query.fields import ECS_FIELDS, NS_PER_MS
from store.day_store import SCHEMA

KEYWORD = {"type": "keyword", "ignore_above": 1024}


def test_the_mapping_of_every_schema_field_is_the_one_shipped_before_it_was_derived() -> None:
    """The mapping as it was written out by hand: deriving it changed nothing."""
    assert ECS_MAPPINGS == {
        "@timestamp": {"type": "date"},
        "message": {"type": "text"},
        "log.level": KEYWORD,
        "log.file.path": KEYWORD,
        "log.offset": {"type": "long"},
        "tags": KEYWORD,
        "error.message": {"type": "text", "fields": {"keyword": KEYWORD}},
        "error.type": KEYWORD,
        "error.stack_trace": {"type": "text"},
        "error.grouping_key": KEYWORD,
        "error.grouping_name": {**KEYWORD, "fields": {"text": {"type": "text"}}},
        "error.culprit": KEYWORD,
        "http.request.method": KEYWORD,
        "http.response.status_code": {"type": "long"},
        "http.response.status_class": KEYWORD,
        "url.original": KEYWORD,
        "url.path": KEYWORD,
        "url.query": KEYWORD,
        "event.duration": {"type": "long"},
        "event.ingested": {"type": "date"},
        "event.id": KEYWORD,
        "endpoint": KEYWORD,
        "user.id": KEYWORD,
        "client.ip": {"type": "ip"},
        "user_agent.original": KEYWORD,
        "trace.id": KEYWORD,
        "span.id": KEYWORD,
        "service.name": KEYWORD,
        "host.name": KEYWORD,
    }
    properties = index_template("logferry")["template"]["mappings"]["properties"]
    assert properties["error"]["properties"]["message"]["fields"]["keyword"] == KEYWORD


def test_the_query_fields_are_the_schema_fields_with_their_store_columns() -> None:
    assert set(ECS_FIELDS) == set(BY_NAME)
    kinds = {"keyword": Kind.KEYWORD, "text": Kind.TEXT, "long": Kind.NUMBER, "date": Kind.DATE, "ip": Kind.IP}
    for field in FIELDS:
        queried = ECS_FIELDS[field.name]
        assert queried.kind is kinds[field.type]
        if field.duckdb is not None:
            assert queried.sql == field.duckdb.name
    assert ECS_FIELDS["event.duration"].sql_scale == 1 / NS_PER_MS
    assert ECS_FIELDS["log.level"].case == "lower" and ECS_FIELDS["http.request.method"].case == "upper"
    assert ECS_FIELDS["tags"].array
    assert ECS_FIELDS["log.offset"].sql.startswith("TRY_CAST(") and ECS_FIELDS["log.offset"].sql.endswith("AS BIGINT)")


def test_the_stores_typed_columns_are_the_ones_the_schema_names_in_its_order() -> None:
    """What ``store/`` can derive its DDL from: the same columns, types and constraints, in order."""
    body = SCHEMA[SCHEMA.index("(") + 1 : SCHEMA.rindex(")")]
    declared = [re.split(r"\s+", line.strip().rstrip(","), maxsplit=2) for line in body.strip().splitlines()]
    assert [(name, " ".join(rest)) for name, *rest in declared] == [
        *((column.name, f"{column.type} {column.constraint}".strip()) for _, column in duckdb_columns()),
        ("doc", "JSON NOT NULL"),
    ]
    assert len(DUCKDB_COLUMNS) == len(set(DUCKDB_COLUMNS)) == sum(field.duckdb is not None for field in FIELDS)


def test_every_field_a_processor_writes_is_in_the_schema_or_said_to_stay_unmapped() -> None:
    written = {name for cls in PROCESSORS.values() for name in cls.writes}
    assert written - set(BY_NAME) - INTERNAL_KEYS - UNMAPPED_WRITES == set()
    assert written >= UNMAPPED_WRITES


def test_the_compiled_chains_generated_tables_are_current() -> None:
    """Regenerate with ``python -m logferry.native_tables`` after changing a schema field or a declaration."""
    assert NAMES_RS.read_text() == names_rs()
    assert DEFAULT_CHAIN_JSON.read_text() == default_chain_json()
    identifiers = re.findall(r"^\s+(\w+) = ", names_rs(), re.MULTILINE)
    assert len(identifiers) == len(set(identifiers)), "two names make the same Rust identifier"
