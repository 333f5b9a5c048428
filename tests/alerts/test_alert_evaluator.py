"""The evaluator's own cases: an alert of a rule taken out of the config, and a step that could not be saved."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerts.config import AlertsConfig
from alerts.evaluator import Evaluator, SharedState
from alerts.rules import Rule
from alerts.state import FIRING, PENDING, RESOLVED, Alert
from alerts.store import FileStateStore
from query.backend import Backend
from tests.alerts.alert_corpus import START

RULE = Rule(AlertsConfig.model_validate({"rules": [{"name": "Kept", "kind": "count", "threshold": 10**9}]}).rules[0])
AT = int(START.timestamp() * 1000) + 3_600_000


def evaluator(tmp_path: Path, backend: Backend, *alerts: Alert) -> Evaluator:
    store = FileStateStore(tmp_path / "alerts")
    shared = SharedState(store, store.lease("t"))
    shared.state.alerts = {a.key: a for a in alerts}
    return Evaluator([RULE], backend, AlertsConfig(samples=0), shared)


def test_a_firing_alert_of_a_rule_no_longer_configured_resolves_and_a_pending_one_is_dropped(
    tmp_path: Path, duckdb_backend: Backend
) -> None:
    gone_firing = Alert("Gone", "x", FIRING, active_at=1, fired_at=2, sent={"hook": FIRING})
    gone_pending = Alert("AlsoGone", "", PENDING, active_at=1)
    e = evaluator(tmp_path, duckdb_backend, gone_firing, gone_pending)
    transitions = e.step(AT)
    assert [(t.rule, t.state) for t in transitions] == [("Gone", RESOLVED), ("AlsoGone", "inactive")]
    assert list(e.shared.state.alerts) == [gone_firing.key] and gone_firing.state == RESOLVED


def test_a_step_that_could_not_be_saved_is_evaluated_again_from_what_was_saved(
    tmp_path: Path, duckdb_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    e = evaluator(tmp_path, duckdb_backend)
    e.shared.lease.acquire()
    e._had_lease = True
    e.shared.state.evaluated_to = AT - 60_000
    e.clock = lambda: AT / 1000 + e.config.delay

    def disk_full(_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(e.shared.store, "append_history", disk_full)
    with pytest.raises(OSError):
        e.tick()
    assert e._had_lease is False, "the next tick must reload the saved state"
    monkeypatch.undo()
    e.tick()
    assert FileStateStore(tmp_path / "alerts").load().evaluated_to == AT
    e.shared.lease.release()
