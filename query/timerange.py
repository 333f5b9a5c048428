"""Times and bucket widths as people type them: ISO 8601 or ``now-1h``; ``1m``/``5m``/``1h``/``1d``."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from core.errors import QueryError
from core.timefmt import iso_ms

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1, tzinfo=UTC)
EARLIEST = dt.datetime.min.replace(tzinfo=UTC)
LATEST = dt.datetime.max.replace(tzinfo=UTC)
_RELATIVE = re.compile(r"^now(?:([+-])(\d+)([smhdw]))?(?:/([mhd]))?$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

INTERVALS: dict[str, int] = {"1m": 60_000, "5m": 300_000, "1h": 3_600_000, "1d": 86_400_000}
AUTO_TARGET_BUCKETS = 300


def parse_time(text: str, now: dt.datetime) -> dt.datetime:
    """An absolute ISO 8601 time (UTC when no offset is given) or ``now[+-N(s|m|h|d|w)][/unit]``.

    A time that is not a UTC instant between ``EARLIEST`` and ``LATEST`` (``now-99999999999d``,
    year 1 east of UTC) is refused with a ``QueryError`` saying so, rather than overflowing later.
    """
    text = text.strip()
    m = _RELATIVE.match(text)
    if m:
        sign, amount, unit, round_to = m.groups()
        try:
            t = now
            if sign:
                delta = dt.timedelta(seconds=int(amount) * _UNIT_SECONDS[unit])
                t = t + delta if sign == "+" else t - delta
            if round_to:
                t -= (t - EPOCH) % dt.timedelta(seconds=_UNIT_SECONDS[round_to])
        except (OverflowError, ValueError):  # ValueError: more digits than int() takes
            raise _outside(text) from None
        return t
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise QueryError(f"time {text!r} is neither ISO 8601 nor relative like 'now-1h'") from None
    try:
        return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
    except OverflowError:
        raise _outside(text) from None


def _outside(text: str) -> QueryError:
    shown = text if len(text) <= 60 else text[:57] + "..."
    return QueryError(f"time {shown!r} is outside the supported range {iso_ms(EARLIEST)} to {iso_ms(LATEST)}")


def time_range(start: str | None, end: str | None, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The half-open range ``[from, to)``; the default is the last 24 hours."""
    now = now or dt.datetime.now(UTC)
    t_end = parse_time(end, now) if end else now
    try:
        t_start = parse_time(start, now) if start else t_end - dt.timedelta(days=1)
    except OverflowError:
        raise _outside(f"{end} - 1 day") from None
    if t_start >= t_end:
        raise QueryError(f"'from' ({t_start.isoformat()}) must be before 'to' ({t_end.isoformat()})")
    return t_start, t_end


def interval_ms(interval: str, start: dt.datetime, end: dt.datetime, max_buckets: int) -> tuple[str, int]:
    """The bucket width: a named one, or ``auto`` (the finest giving at most 300 buckets).

    Refuses a width that would give more than ``max_buckets`` buckets: that is the costly query.
    """
    span_ms = (end - start).total_seconds() * 1000
    if interval == "auto":
        for name, width in INTERVALS.items():
            if span_ms / width <= min(AUTO_TARGET_BUCKETS, max_buckets):
                return name, width
        interval = "1d"
    if interval not in INTERVALS:
        raise QueryError(f"interval {interval!r} is not one of {', '.join([*INTERVALS, 'auto'])}")
    width = INTERVALS[interval]
    if span_ms / width > max_buckets:
        raise QueryError(
            f"interval {interval} over this time range gives {int(span_ms // width) + 1} buckets, more "
            f"than the maximum {max_buckets}; use a wider interval or a shorter range"
        )
    return interval, width


def day_bounds(start: dt.datetime, end: dt.datetime) -> tuple[dt.date, dt.date]:
    """The first and last UTC day that ``[start, end)`` overlaps."""
    return start.astimezone(UTC).date(), (end - dt.timedelta(microseconds=1)).astimezone(UTC).date()


def days_touched(start: dt.datetime, end: dt.datetime) -> list[dt.date]:
    """Every UTC day that ``[start, end)`` overlaps, oldest first (one item per day: for short ranges)."""
    first, last = day_bounds(start, end)
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def days_within(start: dt.datetime, end: dt.datetime, days: Iterable[dt.date]) -> list[dt.date]:
    """Those of ``days`` that ``[start, end)`` overlaps, oldest first.

    Costs what ``days`` holds, not what the range spans: 0001..9999 is 3.65 million days.
    """
    first, last = day_bounds(start, end)
    return sorted(d for d in days if first <= d <= last)
