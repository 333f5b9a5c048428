"""The shipped time format, and the UTC day both sinks store a document under."""

from __future__ import annotations

import datetime as dt

import pytest

from core.timefmt import iso_ms, utc_day


@pytest.mark.parametrize(
    ("timestamp", "day"),
    [
        ("2026-11-22T01:02:03.123Z", dt.date(2026, 11, 22)),
        ("2026-02-29T00:00:00.000Z", None),
        ("2026/11/22T01:02:03Z", None),
        ("yesterday", None),
        ("", None),
        (1763773323123, None),
        (None, None),
    ],
)
def test_the_day_a_document_is_stored_under(timestamp: object, day: dt.date | None) -> None:
    assert utc_day(timestamp) == day


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (dt.datetime(2026, 11, 22, 1, 2, 3, 123456, tzinfo=dt.UTC), "2026-11-22T01:02:03.123Z"),
        (dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))), "2026-11-22T00:00:00.000Z"),
        (dt.datetime(999, 1, 1, tzinfo=dt.UTC), "0999-01-01T00:00:00.000Z"),
    ],
)
def test_times_are_shipped_in_utc_with_milliseconds_and_z(moment: dt.datetime, text: str) -> None:
    assert iso_ms(moment) == text
    assert utc_day(text) == moment.astimezone(dt.UTC).date()
