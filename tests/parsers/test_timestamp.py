"""parse_timestamp: every event leaves with a canonical UTC @timestamp, whatever it came with."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from parsers.timestamp import ParseTimestamp, now_utc

CANONICAL = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
parse_default = ParseTimestamp()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-22T01:02:03.123Z", "2026-11-22T01:02:03.123Z"),
        ("2026-11-22T01:02:03Z", "2026-11-22T01:02:03.000Z"),
        ("2026-11-22T03:02:03.123+02:00", "2026-11-22T01:02:03.123Z"),
        ("2026-11-22T03:02:03.123+0200", "2026-11-22T01:02:03.123Z"),
        ("2026-11-22 03:02:03.123+02:00", "2026-11-22T01:02:03.123Z"),
        ("2026-11-21T23:30:00-02:00", "2026-11-22T01:30:00.000Z"),
        ("2026-11-22T01:02:03.123456789Z", "2026-11-22T01:02:03.123Z"),
        ("2026-11-22T01:02:03.9999Z", "2026-11-22T01:02:03.999Z"),
        ("2026-11-22T01:02:03.1Z", "2026-11-22T01:02:03.100Z"),
        ("2026-11-22T01:02:03", "2026-11-22T01:02:03.000Z"),
        ("2026-11-22 01:02:03:123", "2026-11-22T01:02:03.123Z"),
        ("2026-11-22 01:02:03.123", "2026-11-22T01:02:03.123Z"),
        ("2026-11-22 01:02:03", "2026-11-22T01:02:03.000Z"),
        ("  2026-11-22T01:02:03Z\n", "2026-11-22T01:02:03.000Z"),
        (1700000000, "2023-11-14T22:13:20.000Z"),
        (1700000000.5, "2023-11-14T22:13:20.500Z"),
        (1700000000.123, "2023-11-14T22:13:20.123Z"),
        (1700000000123, "2023-11-14T22:13:20.123Z"),
        (1700000000123.0, "2023-11-14T22:13:20.123Z"),
        (1700000000123456, "2023-11-14T22:13:20.123Z"),
        (1700000000123456789, "2023-11-14T22:13:20.123Z"),
        ("1700000000", "2023-11-14T22:13:20.000Z"),
        ("1700000000.25", "2023-11-14T22:13:20.250Z"),
        ("1700000000123", "2023-11-14T22:13:20.123Z"),
        (0, "1970-01-01T00:00:00.000Z"),
        (4133980799999, "2100-12-31T23:59:59.999Z"),
        ("2026-11-22 01:02:03,613", "2026-11-22T01:02:03.613Z"),
    ],
)
def test_accepted_formats_become_canonical_utc(value: Any, expected: str) -> None:
    event = parse_default({"timestamp": value, "other": 1})
    assert event == {"@timestamp": expected, "other": 1}


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "",
        "2026-13-01T00:00:00Z",
        "2026-11-22T24:00:00",
        "2026-11-22T01:02:03.123 +02:00",
        "22/11/2026 01:02:03",
        "nan",
        "inf",
        "1_700_000_000",
        "١٧٠٠٠٠٠٠٠٠",
        "9999-12-31T23:59:59-02:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "1969-12-31T23:59:59Z",
        "2101-01-01T00:00:00Z",
        "1970-01-01T01:00:00+02:00",
        -1,
        4133980800000,
        float("nan"),
        float("inf"),
        1e300,
        10**30,
        True,
        False,
        None,
        [1700000000],
        {"seconds": 1700000000},
    ],
)
def test_unparseable_value_gets_ingest_time_and_a_tag_and_is_kept(value: Any) -> None:
    before = now_utc()
    event = parse_default({"time": value})
    after = now_utc()
    assert before <= event["@timestamp"] <= after
    assert event["tags"] == ["_dateparsefailure"]
    assert event["time"] is value


def test_missing_time_gets_ingest_time_without_a_tag() -> None:
    before = now_utc()
    event = parse_default({"message": "no time here"})
    assert before <= event["@timestamp"] <= now_utc()
    assert "tags" not in event


def test_source_at_timestamp_is_normalized_in_place() -> None:
    event = parse_default({"@timestamp": "2026-11-22T03:02:03+02:00"})
    assert event == {"@timestamp": "2026-11-22T01:02:03.000Z"}


def test_bad_source_at_timestamp_is_kept_under_a_side_name() -> None:
    event = parse_default({"@timestamp": "not a time"})
    assert event["_@timestamp"] == "not a time"
    assert CANONICAL.match(event["@timestamp"])
    assert event["tags"] == ["_dateparsefailure"]


def test_first_present_field_wins_even_when_a_later_one_would_parse() -> None:
    event = parse_default({"ts": 1700000000, "time": "garbage"})
    assert event["time"] == "garbage"
    assert event["ts"] == 1700000000
    assert event["tags"] == ["_dateparsefailure"]


@pytest.mark.parametrize(
    ("event", "left"),
    [
        ({"timestamp": 1700000000, "time": 1}, {"time": 1}),
        ({"time": 1700000000}, {}),
        ({"ts": "1700000000"}, {}),
    ],
)
def test_the_parsed_source_field_is_removed(event: dict[str, Any], left: dict[str, Any]) -> None:
    result = parse_default(event)
    assert result.pop("@timestamp") == "2023-11-14T22:13:20.000Z"
    assert result == left


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-07-01 12:00:00", "2026-07-01T10:00:00.000Z"),
        ("2026-01-01 12:00:00:250", "2026-01-01T11:00:00.250Z"),
        ("2026-07-01T12:00:00Z", "2026-07-01T12:00:00.000Z"),
        ("2026-07-01T12:00:00+05:00", "2026-07-01T07:00:00.000Z"),
        (1700000000, "2023-11-14T22:13:20.000Z"),
    ],
)
def test_naive_times_are_read_in_the_configured_zone(value: Any, expected: str) -> None:
    parse = ParseTimestamp(ParseTimestamp.Config(timezone="Europe/Berlin"))
    assert parse({"timestamp": value})["@timestamp"] == expected


def test_configured_fields_replace_the_defaults() -> None:
    parse = ParseTimestamp(ParseTimestamp.Config(fields=("when", "meta.at")))
    assert parse({"when": 1700000000, "time": 5})["@timestamp"] == "2023-11-14T22:13:20.000Z"
    event = parse({"meta": {"at": "2026-11-22T01:02:03Z"}})
    assert event == {"@timestamp": "2026-11-22T01:02:03.000Z"}


def test_unknown_zone_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        ParseTimestamp.Config(timezone="Mars/Olympus_Mons")


arbitrary_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.from_regex(
        r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.:,][0-9]{1,12})?(Z|[+-][0-9]{2}:?[0-9]{2})?\Z"
    )
    | st.from_regex(r"\A-?[0-9]{1,25}(\.[0-9]{0,9})?\Z"),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@given(value=arbitrary_values, field=st.sampled_from(["timestamp", "@timestamp", "time", "ts", "absent"]))
def test_any_value_yields_a_canonical_timestamp_and_never_raises(value: Any, field: str) -> None:
    event = parse_default({field: value})
    assert CANONICAL.match(event["@timestamp"])


@given(st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 12, 30)), st.integers(-14 * 60, 14 * 60))
def test_iso_text_round_trips_to_the_same_instant_cut_to_millis(moment: datetime, offset_minutes: int) -> None:
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    expected_utc = aware.astimezone(UTC)
    expected = expected_utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{expected_utc.microsecond // 1000:03d}Z"
    assert parse_default({"time": aware.isoformat()})["@timestamp"] == expected


@given(st.integers(min_value=10**11, max_value=4133980799999))
def test_epoch_millis_round_trip(millis: int) -> None:
    moment = datetime(1970, 1, 1) + timedelta(milliseconds=millis)
    expected = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    assert parse_default({"ts": millis})["@timestamp"] == expected
    assert parse_default({"ts": str(millis)})["@timestamp"] == expected


def test_python_asctime_is_read() -> None:
    event = parse_default({"asctime": "2026-11-22 13:20:29,613", "levelname": "ERROR"})
    assert event == {"@timestamp": "2026-11-22T13:20:29.613Z", "levelname": "ERROR"}


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
def test_a_time_outside_1970_to_2100_is_a_parse_failure_never_a_stored_year(moment: datetime) -> None:
    event = parse_default({"time": moment.isoformat() + "Z"})
    if 1970 <= moment.year <= 2100:
        assert event["@timestamp"][:4] == f"{moment.year:04d}"
        assert "tags" not in event
    else:
        assert event["tags"] == ["_dateparsefailure"]
        assert "1970" <= event["@timestamp"][:4] <= "2100"


def test_the_zone_named_for_the_events_file_reads_naive_times_and_is_removed() -> None:
    event = parse_default({"@timezone": "America/New_York", "time": "2026-11-22 07:00:00:125"})
    assert event == {"@timestamp": "2026-11-22T12:00:00.125Z"}
    offset = parse_default({"@timezone": "America/New_York", "time": "2026-11-22T07:00:00+01:00"})
    assert offset == {"@timestamp": "2026-11-22T06:00:00.000Z"}


def test_an_unknown_zone_on_the_event_falls_back_to_the_configured_one() -> None:
    event = parse_default({"@timezone": "Mars/Olympus_Mons", "time": "2026-11-22 07:00:00"})
    assert event == {"@timestamp": "2026-11-22T07:00:00.000Z"}
