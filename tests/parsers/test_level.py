"""parse_level: one lowercase log.level from names, aliases and pino/bunyan numbers."""

from __future__ import annotations

from typing import Any

import pytest

from parsers.level import ParseLevel

parse_default = ParseLevel()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("info", "info"),
        ("INFO", "info"),
        (" Debug ", "debug"),
        ("WARNING", "warn"),
        ("warn", "warn"),
        ("err", "error"),
        ("CRIT", "critical"),
        ("Information", "info"),
        ("notice", "notice"),
        (10, "trace"),
        (20, "debug"),
        (30, "info"),
        (40, "warn"),
        (50, "error"),
        (60, "fatal"),
        (50.0, "error"),
        ("30", "info"),
        (" 60 ", "fatal"),
        (35, "35"),
        ("35", "35"),
    ],
)
def test_level_values_map_to_lowercase_names(value: Any, expected: str) -> None:
    assert parse_default({"level": value, "x": 1}) == {"log.level": expected, "x": 1}


@pytest.mark.parametrize(
    "event",
    [
        {"severity": "ERROR"},
        {"lvl": "error"},
        {"log.level": "Error"},
        {"log": {"level": "ERROR"}},
        {"level": ["info"], "severity": "error"},
        {"level": None, "lvl": 50},
    ],
)
def test_every_alias_and_shape_is_read(event: dict[str, Any]) -> None:
    assert parse_default(event)["log.level"] == "error"


@pytest.mark.parametrize("value", [["info"], {"name": "info"}, True, None, "", "   ", 30.5, float("nan")])
def test_a_value_that_is_not_a_level_stays_where_it_was(value: Any) -> None:
    event = parse_default({"level": value})
    assert "log.level" not in event
    assert event["level"] is value


def test_nested_level_is_removed_and_its_siblings_kept() -> None:
    event = parse_default({"log": {"level": "WARN", "logger": "app.db"}})
    assert event == {"log.level": "warn", "log": {"logger": "app.db"}}


def test_nested_level_alone_leaves_no_empty_object() -> None:
    assert parse_default({"log": {"level": "WARN"}}) == {"log.level": "warn"}


def test_earlier_alias_wins_and_later_ones_stay() -> None:
    assert parse_default({"level": "info", "severity": "debug"}) == {"log.level": "info", "severity": "debug"}


def test_no_level_field_sets_nothing() -> None:
    assert parse_default({"message": "m"}) == {"message": "m"}


def test_configured_aliases_and_numbers() -> None:
    parse = ParseLevel(ParseLevel.Config(fields=("sev",), aliases={"NOTICE": "Info"}, numeric={5: "TRACE", 30: "info"}))
    assert parse({"sev": "notice"}) == {"log.level": "info"}
    assert parse({"sev": 5}) == {"log.level": "trace"}
    assert parse({"sev": "warning"}) == {"log.level": "warning"}
    assert parse({"level": "error"}) == {"level": "error"}


def test_python_logging_levelname_is_read() -> None:
    assert parse_default({"levelname": "ERROR", "x": 1}) == {"log.level": "error", "x": 1}
    assert parse_default({"levelname": "WARNING"}) == {"log.level": "warn"}
