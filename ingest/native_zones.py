"""Time zone tables for the compiled chain, worked out from Python's own ``zoneinfo``.

``parse_timestamp`` reads a time written without an offset in a zone (``timezone``, or a path rule's):
``datetime.replace(tzinfo=zone).astimezone(UTC)``, which takes, for a local time, the offset zoneinfo
gives with ``fold=0``: in a repeated hour the first one, in a skipped hour the one before the gap.
The compiled chain has no zone database; it takes this table instead: the local times (seconds since
1970 on the local clock) from which each offset holds, as zoneinfo finds them (``bisect_right`` over
the local transition times, each the UTC transition plus the larger of the two offsets around it).

The transitions are found by asking the zone itself: its offset once a day from 1969 to 2102 (every
time the compiled chain can accept is in 1970..2100), each change then narrowed to the second, once
per zone a configuration names (the cost is in the commit). ``tests/ingest/test_native_zones.py``
holds the table to ``astimezone`` around every transition of a dozen zones chosen for their oddities.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

_UTC = dt.UTC
_FROM = int(dt.datetime(1969, 1, 1, tzinfo=_UTC).timestamp())
_TO = int(dt.datetime(2102, 1, 1, tzinfo=_UTC).timestamp())
_DAY = 86_400

ZoneTable = tuple[int, list[tuple[int, int]]]
"""The offset (seconds) before the first transition, and ``(local seconds, offset)`` from each on."""


def _offset(zone: ZoneInfo, utc_seconds: int) -> int:
    offset = dt.datetime.fromtimestamp(utc_seconds, zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


@lru_cache(maxsize=64)
def zone_table(name: str) -> ZoneTable:
    """The table of the IANA zone ``name`` (see the module docstring); UTC's is empty."""
    if name == "UTC":
        return 0, []
    zone = ZoneInfo(name)
    transitions: list[tuple[int, int]] = []
    initial = before = _offset(zone, _FROM)
    at = _FROM
    while at < _TO:
        following = min(at + _DAY, _TO)
        if _offset(zone, following) != before:
            low, high = at, following  # the offset changes in (low, high]
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(zone, middle) == before:
                    low = middle
                else:
                    high = middle
            changed = _offset(zone, high)
            transitions.append((high + max(before, changed), changed))
            before = changed
            at = high
            continue
        at = following
    return initial, transitions
