"""`logferry alerts list` and `logferry alerts test RULE --from … --to …` through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from alerts.config import AlertsConfig
from alerts.evaluator import Evaluator, SharedState
from alerts.rules import Rule
from alerts.store import FileStateStore
from query.backend import Backend
from tests.alerts.alert_corpus import END, START
from tests.alerts.test_rules_backends import RULES

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "logferry", "--config", str(config), *args], capture_output=True, text=True, timeout=300
    )


def write_config(path: Path, data_dir: Path, extra: str = "") -> Path:
    rules = "".join(f"\n[[alerts.rules]]\n{toml(rule)}" for rule in RULES)
    path.write_text(f'data_dir = "{data_dir}"\n{extra}\n[alerts]\ninterval = 60\n{rules}')
    return path


def toml(rule: dict[str, Any]) -> str:
    out = []
    for key, value in rule.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items())
            out.append(f"{key} = {{ {inner} }}")
        else:
            out.append(f"{key} = {json.dumps(value)}")
    return "\n".join(out) + "\n"


def test_alerts_test_prints_the_backtest_of_a_rule_over_stored_history(tmp_path: Path, alert_data_dir: Path) -> None:
    config = write_config(tmp_path / "c.toml", alert_data_dir)
    done = cli(config, "alerts", "test", "Slow", "--from", START.isoformat(), "--to", END.isoformat(), "--json")
    assert done.returncode == 0, done.stderr
    transitions = json.loads(done.stdout)
    assert [(t["group"], t["state"]) for t in transitions if t["state"] != "pending"] == [
        ("web", "firing"),
        ("web", "resolved"),
    ]
    text = cli(config, "alerts", "test", "Slow", "--from", START.isoformat(), "--to", END.isoformat())
    assert text.returncode == 0 and "Slow: fired 1 time(s)" in text.stdout
    assert any(line.split()[1:3] == ["firing", "service_name=web"] for line in text.stdout.splitlines()), text.stdout


@pytest.mark.elasticsearch
def test_alerts_test_gives_the_same_backtest_on_elasticsearch(
    tmp_path: Path, alert_data_dir: Path, alert_es: Any
) -> None:
    client, prefix = alert_es
    url = client.transport.node_pool.get().base_url
    duck = write_config(tmp_path / "d.toml", alert_data_dir)
    es = write_config(
        tmp_path / "e.toml",
        alert_data_dir,
        f'[api]\nbackend = "elasticsearch"\n[elasticsearch]\nhosts = ["{url}"]\nindex_prefix = "{prefix}"\n',
    )
    args = ("alerts", "test", "EndpointErrorRate", "--from", START.isoformat(), "--to", END.isoformat(), "--json")
    on_duckdb, on_es = cli(duck, *args), cli(es, *args)
    assert on_duckdb.returncode == on_es.returncode == 0, on_duckdb.stderr + on_es.stderr
    assert json.loads(on_duckdb.stdout) == json.loads(on_es.stdout) != []


def test_alerts_list_shows_each_rule_and_the_alerts_the_evaluator_keeps(
    tmp_path: Path, alert_data_dir: Path, duckdb_backend: Backend
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "events").symlink_to(alert_data_dir / "events", target_is_directory=True)
    config = write_config(tmp_path / "c.toml", data_dir)
    before = cli(config, "alerts", "list")
    assert before.returncode == 0, before.stderr
    assert before.stdout.count("inactive") == len(RULES)

    compiled = [Rule(r) for r in AlertsConfig.model_validate({"rules": RULES}).rules]
    store = FileStateStore(data_dir / "alerts")
    shared = SharedState(store, store.lease("t"))
    Evaluator(compiled, duckdb_backend, AlertsConfig(samples=0), shared).step(
        int(START.timestamp() * 1000) + 66 * 60_000
    )
    shared.save()

    after = cli(config, "alerts", "list", "--json")
    assert after.returncode == 0, after.stderr
    listed = {r["name"]: r for r in json.loads(after.stdout)["rules"]}
    assert set(listed) == {r["name"] for r in RULES}
    assert [(a["group"], a["state"]) for a in listed["Slow"]["alerts"]] == [("web", "firing")]
    assert listed["EndpointErrorRate"]["group_by"] == "endpoint"
    text = cli(config, "alerts", "list").stdout
    assert "Slow  latency by service.name" in text and "firing   service_name=web" in text


def test_alerts_test_refuses_an_unknown_rule_naming_the_known_ones(tmp_path: Path, alert_data_dir: Path) -> None:
    done = cli(write_config(tmp_path / "c.toml", alert_data_dir), "alerts", "test", "Nope", "--from", "now-1h")
    assert done.returncode == 2
    assert "no alert rule 'Nope'" in done.stderr and "EndpointErrorRate" in done.stderr
