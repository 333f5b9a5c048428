"""The cached-second path of ``parse_timestamp`` gives what the general parse gives, and only that.

Texts shaped like the canonical form but not valid (month 13, year 1969, non-ASCII digits, an hour
24) must still be refused or read by the general parse, and a repeated second must not reuse the
answer of a different text.
"""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from parsers.timestamp import ParseTimestamp


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-22T01:02:03.123Z", "2026-11-22T01:02:03.123Z"),
        ("2026-11-22 01:02:03.123Z", "2026-11-22T01:02:03.123Z"),
        ("2026-11-22 01:02:03,456", "2026-11-22T01:02:03.456Z"),
        ("2026-11-22 01:02:03:789", "2026-11-22T01:02:03.789Z"),
        (" 2026-11-22T01:02:03.000Z ", "2026-11-22T01:02:03.000Z"),
        ("2026-13-22T01:02:03.123Z", None),
        ("1969-12-31T23:59:59.999Z", None),
        ("2101-01-01T00:00:00.000Z", None),
        ("2026-11-22T24:00:00.000Z", None),
        ("2026-11-22T01:02:03.１２３Z", None),
        ("2026-11-22T01:02:0３.123Z", None),
        ("2026-11-22T01:02:03.12aZ", None),
    ],
)
def test_canonical_texts_in_utc(text: str, expected: str | None) -> None:
    assert ParseTimestamp().parse(text, UTC) == expected


def test_naive_text_in_another_zone_is_converted() -> None:
    parse = ParseTimestamp().parse
    assert parse("2026-11-22 01:02:03.123", UTC) == "2026-11-22T01:02:03.123Z"
    assert parse("2026-11-22 01:02:03.123", ZoneInfo("Europe/Berlin")) == "2026-11-22T00:02:03.123Z"
    assert parse("2026-07-22 01:02:03.123", ZoneInfo("Europe/Berlin")) == "2026-07-21T23:02:03.123Z"


def test_same_second_keeps_each_texts_milliseconds() -> None:
    parse = ParseTimestamp().parse
    assert parse("2026-11-22T01:02:03.001Z") == "2026-11-22T01:02:03.001Z"
    assert parse("2026-11-22T01:02:03.999Z") == "2026-11-22T01:02:03.999Z"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1795348800123, "2026-11-22T12:00:00.123Z"),
        (1795348800, "2026-11-22T12:00:00.000Z"),
        (1795348800.5, "2026-11-22T12:00:00.500Z"),
        (0, "1970-01-01T00:00:00.000Z"),
        (1795348800123456, "2026-11-22T12:00:00.123Z"),
        (-1, None),
    ],
)
def test_epoch_numbers(value: float, expected: str | None) -> None:
    assert ParseTimestamp().parse(value) == expected
