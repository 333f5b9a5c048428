"""The Kafka record ↔ initial event round trip, and the indexer's chain equals the embedded one."""

from __future__ import annotations

from typing import Any

import pytest

from core.keys import RAW, SOURCE_ID
from core.tags import TRUNCATED_TAG
from enrich.metadata import AddMetadata
from ingest.document import serialize
from ingest.kafka_wire import (
    NO_METADATA_TAG,
    SHIPPER_HOST,
    RestoreShipperHost,
    event_from_record,
    record_headers,
)
from ingest.transform import PythonTransform
from logferry.assemble import build_processors, processors_for
from logferry.config import load_settings

SHIPPER = b"shipper-7"


def file_event(raw: bytes, **extra: Any) -> dict[str, Any]:
    return {
        RAW: raw,
        SOURCE_ID: "2049:131:9f86d081884c7d65",
        "log.file.path": "/var/log/app.log",
        "log.offset": 4096,
        **extra,
    }


def round_trip(event: dict[str, Any], extra_tags: tuple[str, ...] = ()) -> dict[str, Any]:
    headers = record_headers(event, SHIPPER, extra_tags)
    assert all(isinstance(name, str) and isinstance(value, bytes) for name, value in headers)
    return event_from_record(event[RAW], headers, "lines", 3, 77)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"msg":"hello","level":"info"}',
        b"\xff\xfe not utf-8 \xc3\x28",
        b"",
        b'{"path":"/a","offset":12,"source_id":"forged"}',
    ],
    ids=["json", "invalid-utf8", "empty", "line-with-header-like-keys"],
)
def test_record_rebuilds_the_initial_event_exactly(raw: bytes) -> None:
    event = file_event(raw)
    assert round_trip(event) == {**event, SHIPPER_HOST: "shipper-7"}


def test_source_tags_travel_and_shipper_truncation_adds_its_tag() -> None:
    event = file_event(b'{"msg":"cut', tags=[TRUNCATED_TAG])
    assert round_trip(event)["tags"] == [TRUNCATED_TAG]
    assert round_trip(file_event(b"x" * 10), (TRUNCATED_TAG,))["tags"] == [TRUNCATED_TAG]
    assert "tags" not in round_trip(file_event(b"x"))


def test_non_utf8_file_name_round_trips() -> None:
    path = b"/var/log/caf\xe9.log".decode("utf-8", "surrogateescape")
    assert round_trip(file_event(b"{}", **{"log.file.path": path}))["log.file.path"] == path


def test_record_from_another_producer_gets_a_stable_position_and_a_tag() -> None:
    event = event_from_record(b'{"msg":"foreign"}', [], "lines", 2, 51)
    assert event == {RAW: b'{"msg":"foreign"}', SOURCE_ID: "kafka:lines:2", "log.offset": 51, "tags": [NO_METADATA_TAG]}
    bad_offset = event_from_record(b"{}", [("source_id", b"s"), ("offset", b"-1")], "lines", 0, 9)
    assert bad_offset[SOURCE_ID] == "kafka:lines:0" and bad_offset["log.offset"] == 9
    assert event_from_record(None, [], "lines", 0, 0)[RAW] == b""


@pytest.mark.parametrize(
    ("decoded", "expected_host"),
    [
        ({}, "shipper-7"),
        ({"host.name": "own"}, "own"),
        ({"host": {"name": "app-host"}}, None),
    ],
    ids=["absent", "flat", "nested"],
)
def test_restore_shipper_host_only_fills_a_missing_host(decoded: dict[str, Any], expected_host: str | None) -> None:
    event = {**decoded, SHIPPER_HOST: "shipper-7"}
    out = RestoreShipperHost()(event)
    assert SHIPPER_HOST not in out
    if expected_host is None:
        assert "host.name" not in out and out["host"] == {"name": "app-host"}
    else:
        assert out["host.name"] == expected_host


def test_without_add_metadata_the_internal_key_is_only_removed() -> None:
    out = RestoreShipperHost(RestoreShipperHost.Config(fill=False))({SHIPPER_HOST: "s"})
    assert out == {}


LINES = [
    b'{"time":1795229783071,"level":30,"msg":"plain","req":{"method":"get","url":"/api/v1/users/42?x=1"}}',
    b'{"timestamp":"2026-11-20T10:00:00Z","level":"error","msg":"boom","host":{"name":"app-3"}}',
    b'{"timestamp":"2026-11-20T10:00:01Z","level":"warn","msg":"flat host","host.name":"app-4"}',
    b'{"timestamp":"2026-11-20T10:00:02Z","msg":"bad \xff bytes"}',
    b"not json at all",
]


def test_indexer_chain_gives_the_embedded_result_for_the_same_line() -> None:
    """With the shipper's host equal to this host, everything but processing times matches."""
    settings = load_settings(None)
    host = AddMetadata().host_name.encode()
    embedded = PythonTransform(build_processors(settings), serialize)
    indexer = PythonTransform(processors_for(load_settings(None, source={"type": "kafka"})), serialize)
    for offset, raw in enumerate(LINES):
        direct = embedded.run(file_event(raw, **{"log.offset": offset}))
        headers = record_headers(file_event(raw, **{"log.offset": offset}), host)
        via_kafka = indexer.run(event_from_record(raw, headers, "lines", 0, offset))
        assert direct is not None and via_kafka is not None
        for out in (direct, via_kafka):
            del out["event.ingested"]
            if "_jsonparsefailure" in out.get("tags", ()):
                del out["@timestamp"]  # no time in the line: the processing time stands in
        assert via_kafka == direct
