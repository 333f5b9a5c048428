"""Times and bucket widths as people type them: ISO 8601 or ``now-1h``; ``1m``/``5m``/``1h``/``1d``."""

from __future__ import annotations

import datetime as dt
import math
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
HISTOGRAM_MAX_BARS = 120
# Round bar widths, each at most twice the one before: the finest giving at most 120 bars then gives
# more than 60 (the width before it gave more than 120). Past a year, widths double.
_S, _M, _H, _D = 1000, 60_000, 3_600_000, 86_400_000
HISTOGRAM_WIDTHS_MS: tuple[int, ...] = (
    *(n * 100 for n in (1, 2, 3, 5)),
    *(n * _S for n in (1, 2, 3, 5, 10, 15, 20, 30)),
    *(n * _M for n in (1, 2, 3, 5, 10, 15, 20, 30)),
    *(n * _H for n in (1, 2, 3, 4, 6, 8, 12)),
    *(n * _D for n in (1, 2, 3, 5, 7, 10, 14, 21, 30, 60, 90, 180, 365)),
)


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


def histogram_width(start: dt.datetime, end: dt.datetime, max_bars: int = HISTOGRAM_MAX_BARS) -> int:
    """The bar width (ms) of the page's histogram: the finest round width giving at most ``max_bars``
    epoch-aligned bars over ``[start, end)`` — so more than half of ``max_bars``, unless even 100 ms
    bars are fewer (a range of seconds)."""
    span_ms = max(1.0, (end - start).total_seconds() * 1000)
    for width in HISTOGRAM_WIDTHS_MS:
        if _bars(start, end, width) <= max_bars:
            return width
    width = HISTOGRAM_WIDTHS_MS[-1]
    while span_ms / width > max_bars - 1:
        width *= 2
    return width


def _bars(start: dt.datetime, end: dt.datetime, width_ms: int) -> int:
    first = int(start.timestamp() * 1000) // width_ms
    last = (math.ceil(end.timestamp() * 1000) - 1) // width_ms
    return last - first + 1


def interval_name(width_ms: int) -> str:
    """``5m``, ``30s``, ``200ms``, ``1d``: the largest unit that divides the width."""
    for unit, ms in (("d", _D), ("h", _H), ("m", _M), ("s", _S)):
        if width_ms % ms == 0:
            return f"{width_ms // ms}{unit}"
    return f"{width_ms}ms"


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
