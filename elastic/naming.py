"""Names of the daily indices: the one written for a timestamp, the day of a name, the pattern that reads them.

The sink, retention and the query backend all go through ``DailyIndex``, so they agree on which
names are ours. ``<prefix>-*`` is not such a name set: it also matches ``<prefix>-deadletter`` and
another deployment's ``<prefix>-other-2026.11.22``.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re

from core.errors import ConfigError
from core.timefmt import utc_day

DEADLETTER_SUFFIX = "deadletter"
DATA_STREAM_PATTERNS = ("logs-*-*", "metrics-*-*", "traces-*-*", "synthetics-*-*")
FORBIDDEN_CHARACTERS = frozenset('*?"<>|/\\, #:')
_DIRECTIVE = re.compile(r"%.")
MAX_REMEMBERED_DAYS = 4096


def validate_prefix(prefix: str) -> str:
    """The prefix, if indices ``<prefix>-YYYY.MM.DD`` are valid and no data-stream template takes them."""
    if not prefix:
        raise ConfigError("index prefix must not be empty")
    if prefix != prefix.lower():
        raise ConfigError(f"index prefix {prefix!r} must be lowercase")
    if prefix[0] in "-_+":
        raise ConfigError(f"index prefix {prefix!r} must not start with '-', '_' or '+'")
    bad = sorted(set(prefix) & FORBIDDEN_CHARACTERS)
    if bad:
        raise ConfigError(f"index prefix {prefix!r} must not contain {' '.join(repr(c) for c in bad)}")
    if prefix in (".", ".."):
        raise ConfigError(f"index prefix {prefix!r} is not a valid index name")
    if len(prefix.encode()) > 200:
        raise ConfigError("index prefix is too long (at most 200 bytes)")
    # Some index our ``<prefix>-*`` template would take must not be a data stream's name too:
    # with priority 500 our template would win and break that data stream.
    for pattern in DATA_STREAM_PATTERNS:
        if fnmatch.fnmatchcase(f"{prefix}-a-b", pattern):
            raise ConfigError(
                f"index prefix {prefix!r}: indices {prefix}-* overlap the data stream template "
                f"{pattern!r}; choose another prefix (e.g. 'logferry')"
            )
    if prefix.startswith("."):
        raise ConfigError(f"index prefix {prefix!r} must not start with '.' (hidden/system indices)")
    return prefix


class DailyIndex:
    """``<prefix>-<day>`` for each UTC day (``date_pattern`` formats the day), and the way back."""

    def __init__(self, prefix: str, date_pattern: str = "%Y.%m.%d") -> None:
        self.prefix = validate_prefix(prefix)
        self.date_pattern = date_pattern
        self.deadletter = f"{prefix}-{DEADLETTER_SUFFIX}"
        """Where refused documents go; it matches ``<prefix>-*`` but is never a daily index."""
        self._names: dict[str, str] = {}

    def __call__(self, timestamp: object) -> str | None:
        """The index of an event, or None when ``@timestamp`` is missing or not ``YYYY-MM-DD…``.

        Called per document: remembered by the timestamp's first ten characters, which are all
        ``utc_day`` reads.
        """
        if type(timestamp) is not str:
            return None
        day_text = timestamp[:10]
        name = self._names.get(day_text)
        if name is None:
            day = utc_day(timestamp)
            if day is None:
                return None
            if len(self._names) >= MAX_REMEMBERED_DAYS:
                self._names.clear()
            name = self._names[day_text] = self.name(day)
        return name

    def name(self, day: dt.date) -> str:
        """The daily index of ``day``."""
        return f"{self.prefix}-{day.strftime(self.date_pattern)}"

    def day_of(self, index: str) -> dt.date | None:
        """The day of a daily index name of this prefix; None for any other name (dead letters, foreign)."""
        if not index.startswith(self.prefix + "-"):
            return None
        suffix = index[len(self.prefix) + 1 :]
        try:
            day = dt.datetime.strptime(suffix, self.date_pattern).date()
        except ValueError:
            return None
        return day if day.strftime(self.date_pattern) == suffix else None

    def read_pattern(self) -> str:
        """An index expression for every daily index of this prefix, for ranges too long to list by name.

        Each ``%`` directive of the date pattern becomes ``*``, its literal characters stay
        (``<prefix>-*.*.*``). Then two exclusions: the dead-letter index, and every name with more
        dashes after ``<prefix>-`` than a daily name has — that is where another deployment's
        ``<prefix>-other-<day>`` differs, since ``*`` would match ``other-2026``.
        """
        shape = _DIRECTIVE.sub(lambda m: "%" if m.group() == "%%" else "*", self.date_pattern)
        shape = re.sub(r"\*+", "*", shape)
        more_dashes = "-*" * (shape.count("-") + 2)
        return f"{self.prefix}-{shape},-{self.deadletter},-{self.prefix}{more_dashes}"
