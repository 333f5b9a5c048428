"""AddMetadata: host.name when the event names no host, and event.ingested as UTC ISO 8601 with ms."""

from __future__ import annotations

import re
import socket
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from enrich.metadata import AddMetadata

ISO_MS_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


class SteppedClock:
    """A clock the test advances by hand, to cross second boundaries without waiting."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_ingested_is_the_current_utc_time_with_milliseconds() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    event = AddMetadata()({})
    after = datetime.now(UTC) + timedelta(milliseconds=1)
    assert ISO_MS_UTC.fullmatch(event["event.ingested"])
    ingested = datetime.strptime(event["event.ingested"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert before <= ingested <= after


@pytest.mark.parametrize(
    ("epoch", "expected"),
    [
        (0.0, "1970-01-01T00:00:00.000Z"),
        (1795309323.123456, "2026-11-22T01:02:03.123Z"),
        (1795309323.9994, "2026-11-22T01:02:03.999Z"),
        (1795309323.9996, "2026-11-22T01:02:04.000Z"),
        (1795309324.0, "2026-11-22T01:02:04.000Z"),
        (1735689599.5, "2024-12-31T23:59:59.500Z"),
        (1735689600.001, "2025-01-01T00:00:00.001Z"),
    ],
)
def test_ingested_format_rounds_to_the_nearest_millisecond(epoch: float, expected: str) -> None:
    assert AddMetadata(clock=SteppedClock(epoch))({})["event.ingested"] == expected


def test_ingested_follows_the_clock_across_seconds() -> None:
    clock = SteppedClock(1795309323.100)
    processor = AddMetadata(clock=clock)
    seen = []
    for now in (1795309323.100, 1795309323.900, 1795309324.050, 1795309383.000, 1795309323.250):
        clock.now = now
        seen.append(processor({})["event.ingested"])
    assert seen == [
        "2026-11-22T01:02:03.100Z",
        "2026-11-22T01:02:03.900Z",
        "2026-11-22T01:02:04.050Z",
        "2026-11-22T01:03:03.000Z",
        "2026-11-22T01:02:03.250Z",
    ]


def test_ingested_replaces_a_value_from_the_source() -> None:
    event = AddMetadata(clock=SteppedClock(0.0))({"event.ingested": "yesterday"})
    assert event["event.ingested"] == "1970-01-01T00:00:00.000Z"


def test_ingested_can_be_turned_off() -> None:
    event = AddMetadata(AddMetadata.Config(add_ingested=False, host_name="h1"))({"message": "m"})
    assert event == {"message": "m", "host.name": "h1"}


def test_host_name_defaults_to_this_machine() -> None:
    assert AddMetadata()({})["host.name"] == socket.gethostname()


@pytest.mark.parametrize(
    ("event", "expected_host"),
    [
        ({}, "shipper-1"),
        ({"host.name": "app-7"}, "app-7"),
        ({"host": "www.example.com"}, "shipper-1"),
        ({"host": {"ip": "10.0.0.1"}}, "shipper-1"),
    ],
)
def test_host_name_added_only_when_the_event_names_no_host(event: dict[str, Any], expected_host: str) -> None:
    out = AddMetadata(AddMetadata.Config(host_name="shipper-1"))(event)
    assert out["host.name"] == expected_host


def test_decoded_host_object_with_a_name_is_kept() -> None:
    event = AddMetadata(AddMetadata.Config(host_name="shipper-1"))({"host": {"name": "app-7"}})
    assert event["host"] == {"name": "app-7"}
    assert "host.name" not in event


def test_source_position_is_kept_as_is() -> None:
    event = {"@source_id": "1:2:abc", "log.file.path": "/var/log/app.log", "log.offset": 4096, "message": "m"}
    out = AddMetadata(AddMetadata.Config(host_name="h"), clock=SteppedClock(time.time()))(dict(event))
    assert {k: out[k] for k in event} == event
