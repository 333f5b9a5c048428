"""One schema table (``core/schema.py``): the Elasticsearch mapping and the query fields derive from it,
the store's typed columns hold its fields, every ECS field a processor writes is in it, and the compiled
chain's generated tables (``native/src/names.rs``, ``native/src/default_chain.json``) are current."""

from __future__ import annotations

import re

from core.keys import INTERNAL_KEYS
from core.schema import BY_NAME, FIELDS, UNMAPPED_WRITES
from elastic.templates import ECS_MAPPINGS, index_template
from logferry.native_tables import (
    DEFAULT_CHAIN_JSON,
    NAMES_RS,
    TEXT_TABLES_RS,
    default_chain_json,
    names_rs,
    text_tables_rs,
)
from logferry.stages import PROCESSORS
from query.expr import Kind
from query.fields import ECS_FIELDS, NS_PER_MS
from store.schema import BY_FIELD, COLUMNS

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


def test_the_query_fields_are_the_schema_fields_read_from_the_stores_columns() -> None:
    assert set(ECS_FIELDS) == set(BY_NAME)
    kinds = {"keyword": Kind.KEYWORD, "text": Kind.TEXT, "long": Kind.NUMBER, "date": Kind.DATE, "ip": Kind.IP}
    for field in FIELDS:
        queried = ECS_FIELDS[field.name]
        assert queried.kind is kinds[field.type]
        column = BY_FIELD.get(field.name)
        assert queried.sql == (column.name if column is not None else queried.sql)
        assert column is not None or "json_extract_string(doc," in queried.sql
    assert ECS_FIELDS["event.duration"].sql_scale == 1 / NS_PER_MS
    assert ECS_FIELDS["log.level"].case == "lower" and ECS_FIELDS["http.request.method"].case == "upper"
    assert ECS_FIELDS["tags"].array
    assert ECS_FIELDS["event.ingested"].sql.startswith("TRY_CAST(") and ECS_FIELDS["event.ingested"].sql.endswith(
        "AS TIMESTAMPTZ)"
    )


def test_every_typed_column_of_the_store_holds_a_field_of_the_schema() -> None:
    """The store declares its columns (``store/schema.py``), each by the ECS field it holds: one of these."""
    assert {column.field for column in COLUMNS} <= set(BY_NAME)


def test_every_field_a_processor_writes_is_in_the_schema_or_said_to_stay_unmapped() -> None:
    written = {name for cls in PROCESSORS.values() for name in cls.writes}
    assert written - set(BY_NAME) - INTERNAL_KEYS - UNMAPPED_WRITES == set()
    assert written >= UNMAPPED_WRITES


def test_the_compiled_chains_generated_tables_are_current() -> None:
    """Regenerate with ``python -m logferry.native_tables`` after changing a schema field or a declaration."""
    assert NAMES_RS.read_text() == names_rs()
    assert DEFAULT_CHAIN_JSON.read_text() == default_chain_json()
    assert TEXT_TABLES_RS.read_text() == text_tables_rs()
    identifiers = re.findall(r"^\s+(\w+) = ", names_rs(), re.MULTILINE)
    assert len(identifiers) == len(set(identifiers)), "two names make the same Rust identifier"
