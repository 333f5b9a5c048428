"""The compiled chain's zone tables (``ingest/native_zones.py``) give, for every local time, the offset
``datetime.replace(tzinfo=zone).astimezone(UTC)`` takes: around each transition (gaps, repeated hours,
zones whose DST is negative or half an hour, offsets of seconds) and at random times, 1969..2101."""

from __future__ import annotations

import bisect
import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from ingest.native_zones import zone_table

EPOCH = dt.datetime(1970, 1, 1)
ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # DST of 30 minutes
    "Europe/Dublin",  # negative DST in the tables
    "Africa/Monrovia",  # -00:44:30 until 1972
    "Africa/Casablanca",  # DST suspended for Ramadan, transitions weeks apart
    "America/St_Johns",
    "Pacific/Chatham",
    "Asia/Kolkata",
    "Pacific/Apia",  # skipped a whole day in 2011
    "UTC",
]


def offset_of(table: tuple[int, list[tuple[int, int]]], local: int) -> int:
    """What the compiled chain does with the table (``Zone::offset_at_local``)."""
    initial, transitions = table
    at = bisect.bisect_right([start for start, _ in transitions], local)
    return initial if at == 0 else transitions[at - 1][1]


@pytest.mark.parametrize("name", ZONES)
def test_the_table_gives_zoneinfos_offset_for_every_local_time(name: str) -> None:
    zone, table = ZoneInfo(name), zone_table(name)
    points = [start + delta for start, _ in table[1] for delta in (-3601, -3600, -1801, -1, 0, 1, 1799, 3599, 3600)]
    rng = random.Random(name)
    points += [rng.randrange(-86_400 * 400, 4_133_980_800 + 86_400 * 400) for _ in range(2000)]
    for local in points:
        naive = EPOCH + dt.timedelta(seconds=local)
        offset = naive.replace(tzinfo=zone).utcoffset()
        assert offset is not None
        assert offset_of(table, local) == offset.total_seconds(), (name, naive)
    assert name in ("UTC", "Asia/Kolkata") or table[1], "a zone with transitions since 1969 has them in its table"
