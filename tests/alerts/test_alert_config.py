"""Rules are checked when the config loads: a mistake is a one-line refusal naming the rule, at start."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from alerts.config import AlertsConfig, Selection, parse_duration
from core.errors import ConfigError
from logferry.config import load_settings
from query.filters import FILTER_PARAMS

GOOD = """
[[alerts.rules]]
name = "{name}"
kind = "count"
threshold = 10
{extra}
"""


def settings_with(tmp_path: Path, text: str) -> None:
    config = tmp_path / "logferry.toml"
    config.write_text(text)
    load_settings(config, data_dir=tmp_path)


@pytest.mark.parametrize(
    ("extra", "complaint"),
    [
        ('q = "status:[500 TO"', "q is not a valid query"),
        ('q = "stauts:500"', "unknown field(s) 'stauts' in q"),
        ('group_by = "endpont"', "unknown field 'endpont'"),
        ('group_by = "message"', "cannot make groups"),
        ('level = "loud"', "level 'loud' is not one of"),
        ('status = "6xx"', "status '6xx' is not a code"),
        ('window = "5 minutes"', "is not a duration"),
    ],
)
def test_a_rule_that_cannot_run_is_refused_at_load_naming_it(tmp_path: Path, extra: str, complaint: str) -> None:
    with pytest.raises(ConfigError) as refused:
        settings_with(tmp_path, GOOD.format(name="BrokenRule", extra=extra))
    message = str(refused.value)
    assert complaint in message
    assert "BrokenRule" in message or "alerts.rules.0" in message


def test_a_source_field_listed_in_source_fields_may_be_queried_and_grouped(tmp_path: Path) -> None:
    settings_with(
        tmp_path, GOOD.format(name="Tenant", extra='q = "tenant:acme"\ngroup_by = "tenant"\nsource_fields = ["tenant"]')
    )


def test_rule_names_are_unique_and_new_value_rules_take_no_group_by(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unique: Twice"):
        settings_with(tmp_path, GOOD.format(name="Twice", extra="") + GOOD.format(name="Twice", extra=""))
    with pytest.raises(ConfigError, match="grouped by its field"):
        settings_with(
            tmp_path,
            '[[alerts.rules]]\nname = "New"\nkind = "new_value"\nfield = "error.type"\ngroup_by = "service"\n',
        )


def test_the_run_command_refuses_a_bad_rule_at_start_with_exit_2_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "logferry.toml"
    config.write_text('[input]\npaths = ["x.log"]\n' + GOOD.format(name="PaymentsDown", extra='q = "stauts:500"'))
    result = subprocess.run(
        [sys.executable, "-m", "logferry", "--config", str(config), "--data-dir", str(tmp_path / "d"), "run"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "PaymentsDown" in result.stderr and "stauts" in result.stderr
    assert not (tmp_path / "d").exists(), "a refused config started writing"


def test_rules_and_receivers_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rules = [{"name": "FromEnv", "kind": "ratio", "numerator": {"status": "5xx"}, "threshold": 0.1, "for": "2m"}]
    monkeypatch.setenv("LOGFERRY_ALERTS__RULES", json.dumps(rules))
    monkeypatch.setenv("LOGFERRY_ALERTS__RECEIVERS", json.dumps([{"type": "webhook", "url": "http://127.0.0.1:1/x"}]))
    settings = load_settings(None, data_dir=tmp_path)
    assert settings.alerts.rules[0].name == "FromEnv" and settings.alerts.rules[0].for_ == 120.0
    assert settings.alerts.receivers[0].type == "webhook"


def test_a_rule_selects_with_the_filters_of_the_api_and_the_cli() -> None:
    """The rule's selection is the API's filter vocabulary without the time range (the window gives it)."""
    assert set(Selection.model_fields) == {p.arg for p in FILTER_PARAMS} - {"start", "end"}


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30.0), ("5m", 300.0), ("1h", 3600.0), ("7d", 604800.0), ("250ms", 0.25), (12, 12)]
)
def test_durations_read_as_people_write_them(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_the_lease_lasts_three_intervals_and_at_least_30_seconds() -> None:
    assert AlertsConfig(interval=5).lease_seconds() == 30.0
    assert AlertsConfig(interval=60).lease_seconds() == 180.0
    assert AlertsConfig(interval=5, lease=12).lease_seconds() == 12.0


def test_the_documented_examples_of_rules_and_receivers_load(tmp_path: Path) -> None:
    from alerts.config import RECEIVERS_EXAMPLE, RULES_EXAMPLE

    example = (Path(__file__).resolve().parents[2] / "logferry.example.toml").read_text()
    assert '#   name = "HighErrorRate"' in example and '#   type = "alertmanager"' in example
    config = tmp_path / "rules.toml"
    config.write_text(RECEIVERS_EXAMPLE + "\n" + RULES_EXAMPLE)
    settings = load_settings(config, data_dir=tmp_path)
    assert {r.kind for r in settings.alerts.rules} == {"count", "ratio", "latency", "flatline", "spike", "new_value"}
    assert [r.type for r in settings.alerts.receivers] == ["alertmanager", "webhook", "slack"]
