"""Times and bucket widths as people type them: ISO 8601 or ``now-1h``; ``1m``/``5m``/``1h``/``1d``."""

from __future__ import annotations

import datetime as dt
import re

from logferry.errors import QueryError

UTC = dt.UTC
_RELATIVE = re.compile(r"^now(?:([+-])(\d+)([smhdw]))?(?:/([mhd]))?$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

INTERVALS: dict[str, int] = {"1m": 60_000, "5m": 300_000, "1h": 3_600_000, "1d": 86_400_000}
AUTO_TARGET_BUCKETS = 300


def parse_time(text: str, now: dt.datetime) -> dt.datetime:
    """An absolute ISO 8601 time (UTC when no offset is given) or ``now[+-N(s|m|h|d|w)][/unit]``."""
    text = text.strip()
    m = _RELATIVE.match(text)
    if m:
        sign, amount, unit, round_to = m.groups()
        t = now
        if sign:
            delta = dt.timedelta(seconds=int(amount) * _UNIT_SECONDS[unit])
            t = t + delta if sign == "+" else t - delta
        if round_to:
            step = _UNIT_SECONDS[round_to]
            t = dt.datetime.fromtimestamp(int(t.timestamp()) // step * step, UTC)
        return t
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise QueryError(f"time {text!r} is neither ISO 8601 nor relative like 'now-1h'") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def time_range(start: str | None, end: str | None, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The half-open range ``[from, to)``; the default is the last 24 hours."""
    now = now or dt.datetime.now(UTC)
    t_end = parse_time(end, now) if end else now
    t_start = parse_time(start, now) if start else t_end - dt.timedelta(days=1)
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


def iso_ms(t: dt.datetime) -> str:
    """The shipped timestamp format: UTC with milliseconds and ``Z``."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def days_touched(start: dt.datetime, end: dt.datetime) -> list[dt.date]:
    """Every UTC day that ``[start, end)`` overlaps, oldest first."""
    first = start.astimezone(UTC).date()
    last = (end - dt.timedelta(microseconds=1)).astimezone(UTC).date()
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
