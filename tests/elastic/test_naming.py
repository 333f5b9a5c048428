"""Daily index names, without a server: the name of a day, the day of a name, the pattern that reads them."""

from __future__ import annotations

import datetime as dt
import fnmatch

import pytest

from core.errors import ConfigError
from elastic.naming import DailyIndex


def test_daily_index_per_utc_day_of_timestamp() -> None:
    daily = DailyIndex("logferry", "%Y.%m.%d")
    assert daily("2026-11-22T01:02:03.123Z") == "logferry-2026.11.22"
    assert daily("2026-11-21T23:59:59.999Z") == "logferry-2026.11.21"
    assert daily("2026-01-01T00:00:00.000Z") == "logferry-2026.01.01"
    for bad in (None, 1700000000, "", "yesterday", "2026-13-01T00:00:00Z", "2026-1-1"):
        assert daily(bad) is None


def test_daily_index_pattern_is_configurable_and_parses_back() -> None:
    daily = DailyIndex("app", "%Y-%m-%d")
    assert daily("2026-11-22T01:02:03.123Z") == "app-2026-11-22"
    assert daily.day_of("app-2026-11-22") == dt.date(2026, 11, 22)
    dotted = DailyIndex("logferry", "%Y.%m.%d")
    assert dotted.day_of("logferry-2026.11.22") == dt.date(2026, 11, 22)
    for other in ("logferry-deadletter", "logferry-x-2026.11.22", "other-2026.11.22", "logferry-2026.1.2", "logferry"):
        assert dotted.day_of(other) is None


@pytest.mark.parametrize("prefix", ["logs-app", "metrics-x", "Logferry", "-x", "a*b", "", ".hidden"])
def test_a_prefix_that_collides_or_is_invalid_is_refused(prefix: str) -> None:
    with pytest.raises(ConfigError):
        DailyIndex(prefix)


def matches(expression: str, index: str) -> bool:
    """How Elasticsearch resolves a comma list of wildcards and ``-`` exclusions for one index name."""
    selected = False
    for part in expression.split(","):
        if part.startswith("-"):
            if fnmatch.fnmatchcase(index, part[1:]):
                selected = False
        elif fnmatch.fnmatchcase(index, part):
            selected = True
    return selected


@pytest.mark.parametrize(
    ("prefix", "pattern", "ours", "not_ours"),
    [
        (
            "logferry",
            "%Y.%m.%d",
            ["logferry-2026.11.22", "logferry-1999.01.01"],
            ["logferry-deadletter", "logferry-other-2026.11.22", "logferry-a-b-2026.11.22", "logferry2026.11.22"],
        ),
        (
            "my-app",
            "%Y-%m-%d",
            ["my-app-2026-11-22"],
            ["my-app-deadletter", "my-app-other-2026-11-22", "my-app-x-y-2026-11-22", "my-apps-2026-11-22"],
        ),
        ("app", "%Y%m%d", ["app-20261122"], ["app-deadletter", "app-other-20261122"]),
        ("app", "%d.%m.%Y", ["app-22.11.2026"], ["app-deadletter", "app-other-22.11.2026"]),
    ],
)
def test_read_pattern_matches_every_daily_index_and_no_dead_letter_or_foreign_one(
    prefix: str, pattern: str, ours: list[str], not_ours: list[str]
) -> None:
    daily = DailyIndex(prefix, pattern)
    expression = daily.read_pattern()
    for name in ours:
        assert daily.day_of(name) is not None
        assert matches(expression, name), f"{expression!r} must read {name}"
    for name in not_ours:
        assert not matches(expression, name), f"{expression!r} must not read {name}"
