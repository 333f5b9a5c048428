"""``parse_timestamp``: one canonical ``@timestamp`` (ISO 8601 UTC, milliseconds) for every event."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict

from core.config_types import TimeZoneName
from core.keys import TIMEZONE
from core.tags import add_tag
from parsers.fields import MISSING, compile_aliases

DATE_PARSE_FAILURE = "_dateparsefailure"
INVALID_TIMESTAMP_KEY = "_@timestamp"
"""Where a source ``@timestamp`` that did not parse is kept (the name Logstash uses for the same case)."""

_EPOCH = datetime(1970, 1, 1)
# Epoch magnitude → unit: below 1e11 seconds (until year 5138), then millis, micros, nanos.
_SECONDS_BELOW = 1e11
_MILLIS_BELOW = 1e14
_MICROS_BELOW = 1e17
# Times a log line can honestly carry: before 1970 or after 2100 is a bug or a misread unit, and
# stored as is it would land in a day file of year 1 or 9999.
_MIN_MILLIS = 0
_MAX_MILLIS = round((datetime(2101, 1, 1) - _EPOCH).total_seconds() * 1000)
_MIN_YEAR, _MAX_YEAR = 1970, 2100
_ZONE_CACHE_LIMIT = 256
_MINUTE_CACHE_LIMIT = 8192
# Logs are written in time order, many lines per minute: the formatted (or validated) minute is
# remembered, so a line costs a dict lookup and a few string slices instead of datetime arithmetic.
_epoch_minutes: dict[int, str] = {}
_text_minutes: dict[str, str] = {}
_SECOND_TEXTS = frozenset(f"{second:02d}" for second in range(60))
_MILLI_TEXTS = frozenset(f"{milli:03d}" for milli in range(1000))


def format_utc(moment: datetime) -> str:
    """``2026-11-22T01:02:03.123Z`` from a naive-UTC datetime (fraction cut, not rounded, to ms)."""
    return moment.isoformat(timespec="milliseconds") + "Z"


def now_utc() -> str:
    """The ingest time in the shipped ``@timestamp`` format."""
    return format_utc(datetime.now(UTC).replace(tzinfo=None))


class ParseTimestamp:
    """Set ``@timestamp`` from the first present source field of ``fields``.

    Accepted: ISO 8601 with or without offset (``Z``, ``+02:00``, ``+0200``), ``T`` or space, any
    fraction digits, ``.`` or ``,`` (python's ``asctime``); winston's ``YYYY-MM-DD HH:mm:ss:SSS``; epoch
    seconds/millis/micros/nanos as a number or numeric string, the unit read from the magnitude. Naive
    times are in the zone ``apply_path_settings`` named for the event's file (internal key
    ``@timezone``, removed here), else in ``timezone``. A time outside 1970..2100 is not accepted.

    The parsed source field is removed (``@timestamp`` itself is overwritten in place). When the field
    is present but does not parse (bad text, bool, object, out of range) the event gets the ingest
    time and tag ``_dateparsefailure``; the bad value stays under its name, or under ``_@timestamp``
    when it was ``@timestamp``, so nothing is lost. When no field is present the ingest time is used
    without a tag, as Filebeat and Logstash do: a missing time is not a failed parse.
    """

    name = "parse_timestamp"
    reads: tuple[str, ...] = (TIMEZONE,)
    writes: tuple[str, ...] = ("@timestamp", INVALID_TIMESTAMP_KEY, "tags")
    compiled = True

    class Config(BaseModel):
        model_config = ConfigDict(frozen=True, extra="forbid")

        fields: tuple[str, ...] = ("timestamp", "@timestamp", "time", "ts", "asctime")
        timezone: TimeZoneName = "UTC"
        """IANA zone that times without an offset are read in."""

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or self.Config()
        self._aliases = compile_aliases(self.config.fields)
        self._zone: tzinfo = _zone(self.config.timezone)
        self._zones: dict[str, tzinfo] = {}

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        zone = self._zone
        zone_name = event.pop(TIMEZONE, None)
        if zone_name is not None:
            zone = self._zones.get(zone_name) or self._path_zone(zone_name)
        for alias in self._aliases:
            value = alias.get(event)
            if value is MISSING:
                continue
            parsed = self.parse(value, zone)
            if parsed is not None:
                alias.remove(event)
                event["@timestamp"] = parsed
                return event
            if alias.key == "@timestamp":
                event[INVALID_TIMESTAMP_KEY] = value
            add_tag(event, DATE_PARSE_FAILURE)
            break
        event["@timestamp"] = now_utc()
        return event

    def _path_zone(self, name: str) -> tzinfo:
        """The zone named by a path rule (validated when the rules were loaded), cached by name."""
        if len(self._zones) >= _ZONE_CACHE_LIMIT:
            self._zones.clear()
        try:
            zone = _zone(name)
        except (ZoneInfoNotFoundError, ValueError):
            zone = self._zone
        self._zones[name] = zone
        return zone

    def parse(self, value: Any, zone: tzinfo | None = None) -> str | None:
        """The canonical string for ``value``, or ``None`` when it is not a time we can read.

        Naive times are read in ``zone``, by default the configured ``timezone``.
        """
        kind = type(value)
        try:
            if kind is str:
                return self._parse_text(value, zone or self._zone)
            if kind is int or kind is float:
                return _from_epoch(value)
        except (ValueError, OverflowError):
            return None
        return None

    def _parse_text(self, text: str, zone: tzinfo) -> str | None:
        text = text.strip()
        length = len(text)
        if (
            (length == 24 and text[23] == "Z" or length == 23 and zone is UTC)
            and text[19] in ".,:"
            and text[10] in " T"
        ):
            canonical = _canonical_millis(text)
            if canonical is not None:
                return canonical
        if text.isascii() and text.isdigit():
            return _from_epoch(int(text))
        if len(text) > 20 and text[19] == ":" and text[10] in " T":
            text = f"{text[:19]}.{text[20:]}"  # winston's HH:mm:ss:SSS
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return _from_epoch(_epoch_number(text))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        moment = moment.astimezone(UTC)
        if not _MIN_YEAR <= moment.year <= _MAX_YEAR:
            return None
        return format_utc(moment.replace(tzinfo=None))


def _canonical_millis(text: str) -> str | None:
    """The result of the general parse for ``YYYY-MM-DD[T ]HH:MM:SS[.,:]mmm`` in UTC (``Z``, or naive
    read in UTC), from the validated minute; ``None`` sends the text to the general parse.

    Exact because such a text parses to that minute plus the seconds and milliseconds (ASCII digits,
    seconds below 60), unchanged by UTC, and is formatted back as the minute's ``isoformat`` and the
    same digits.
    """
    seconds, millis = text[17:19], text[20:23]
    if text[16] != ":" or seconds not in _SECOND_TEXTS or millis not in _MILLI_TEXTS:
        return None
    minute = text[:16]
    prefix = _text_minutes.get(minute)
    if prefix is None:
        prefix = _validated_minute(minute)
    return f"{prefix}:{seconds}.{millis}Z" if prefix else None


def _validated_minute(minute: str) -> str:
    """``YYYY-MM-DDTHH:MM`` of a minute written in canonical digits within 1970..2100, else ``""``."""
    try:
        moment = datetime.fromisoformat(minute)
    except ValueError:
        moment = None
    valid = (
        moment is not None
        and moment.tzinfo is None
        and _MIN_YEAR <= moment.year <= _MAX_YEAR
        and minute.isascii()
        and moment.isoformat(sep=minute[10], timespec="minutes") == minute
    )
    prefix = moment.isoformat(timespec="minutes") if valid and moment is not None else ""
    if len(_text_minutes) >= _MINUTE_CACHE_LIMIT:
        _text_minutes.clear()
    _text_minutes[minute] = prefix
    return prefix


def _format_millis(millis: int) -> str:
    """``format_utc`` of the epoch milliseconds ``millis`` (non-negative), the minute's text cached."""
    second, fraction = divmod(millis, 1000)
    minute, second = divmod(second, 60)
    prefix = _epoch_minutes.get(minute)
    if prefix is None:
        prefix = (_EPOCH + timedelta(minutes=minute)).isoformat(timespec="minutes")
        if len(_epoch_minutes) >= _MINUTE_CACHE_LIMIT:
            _epoch_minutes.clear()
        _epoch_minutes[minute] = prefix
    return f"{prefix}:{second:02d}.{fraction:03d}Z"


def _zone(name: str) -> tzinfo:
    return UTC if name == "UTC" else ZoneInfo(name)


def _epoch_number(text: str) -> float:
    """A decimal number (``1700000000.5``); raises ValueError for anything else, ``1_0``/``nan`` too."""
    if not text.isascii() or "_" in text:
        raise ValueError(text)
    return float(text)


def _from_epoch(number: float) -> str | None:
    if not math.isfinite(number):
        return None
    magnitude = abs(number)
    if magnitude < _SECONDS_BELOW:
        millis = round(number * 1000)
    elif magnitude < _MILLIS_BELOW:
        millis = round(number)
    elif magnitude < _MICROS_BELOW:
        millis = int(number // 1000)
    else:
        millis = int(number // 1_000_000)
    if not _MIN_MILLIS <= millis < _MAX_MILLIS:
        return None
    return _format_millis(millis)
