"""apply_path_settings: a file's zone, service and tags come from the first rules matching its path."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from parsers.path_settings import ApplyPathSettings, PathRule
from parsers.timestamp import ParseTimestamp

RULES = ApplyPathSettings.Config(
    rules=(
        PathRule(paths=("/var/log/legacy/*.log",), timezone="Europe/Berlin", tags=("legacy",)),
        PathRule(paths=("*/billing*.log",), service="billing", tags=("team-pay", "legacy")),
        PathRule(paths=("/var/log/legacy/billing.log",), timezone="Asia/Tokyo", service="other"),
    )
)


def test_matching_rules_give_zone_service_and_tags_first_rule_first() -> None:
    apply = ApplyPathSettings(RULES)
    event = apply({"log.file.path": "/var/log/legacy/billing.log", "tags": ["_truncated"]})
    assert event == {
        "log.file.path": "/var/log/legacy/billing.log",
        "@timezone": "Europe/Berlin",
        "service.name": "billing",
        "tags": ["_truncated", "legacy", "team-pay"],
    }


def test_a_path_no_rule_matches_is_left_alone() -> None:
    event = {"log.file.path": "/srv/app.log", "message": "m"}
    assert ApplyPathSettings(RULES)(dict(event)) == event


def test_an_event_without_a_path_is_left_alone() -> None:
    assert ApplyPathSettings(RULES)({"message": "from stdin"}) == {"message": "from stdin"}


def test_the_lines_own_service_name_wins() -> None:
    event = ApplyPathSettings(RULES)({"log.file.path": "/x/billing-1.log", "service.name": "from-line"})
    assert event["service.name"] == "from-line"


def test_a_relative_path_matches_an_absolute_glob(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    apply = ApplyPathSettings(ApplyPathSettings.Config(rules=(PathRule(paths=(f"{tmp_path}/logs/*",), tags=("t",)),)))
    assert apply({"log.file.path": "logs/a.log"})["tags"] == ["t"]


def test_the_zone_reaches_parse_timestamp_for_times_without_offset() -> None:
    event = ApplyPathSettings(RULES)({"log.file.path": "/var/log/legacy/a.log", "timestamp": "2026-07-01 12:00:00:250"})
    assert ParseTimestamp()(event) == {
        "log.file.path": "/var/log/legacy/a.log",
        "@timestamp": "2026-07-01T10:00:00.250Z",
        "tags": ["legacy"],
    }


def test_unknown_zone_and_empty_paths_are_config_errors() -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        PathRule(paths=("*",), timezone="Mars/Olympus_Mons")
    with pytest.raises(ValidationError):
        PathRule(paths=())


def test_no_rules_is_a_no_op() -> None:
    event = {"log.file.path": "/var/log/legacy/a.log"}
    assert ApplyPathSettings()(dict(event)) == event
