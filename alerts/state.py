"""Alert states, and how a step's measures move them: pending → firing → resolved.

``advance`` is a pure function of the state and one step's measures, so a live evaluation, a replay
after a restart and a backtest over stored history go through the same transitions. Times are event
times in epoch milliseconds (the step's end), never the clock.

The state also records, per receiver, what was last delivered (``sent``): a restart neither sends a
firing alert again nor forgets to send its resolution, and an alert is forgotten only once every
receiver that heard it fire has heard it resolve.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from alerts.rules import Measure

PENDING = "pending"
FIRING = "firing"
RESOLVED = "resolved"
INACTIVE = "inactive"
"""A pending alert whose condition stopped holding before ``for`` passed (history only)."""


def fingerprint(rule: str, group: str) -> str:
    """The identity of an alert: its rule and group."""
    return f"{rule}\x1f{group}"


@dataclass
class Alert:
    rule: str
    group: str
    state: str
    active_at: int
    """When the condition started to hold (ms)."""
    fired_at: int | None = None
    resolved_at: int | None = None
    evaluated_at: int = 0
    value: float | None = None
    count: int = 0
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    search_url: str = ""
    sent: dict[str, str] = field(default_factory=dict)
    """Per receiver, the last state it accepted (``firing`` or ``resolved``)."""
    sent_at: dict[str, float] = field(default_factory=dict)
    """Per receiver, when (wall clock, s) it last accepted this alert."""

    @property
    def key(self) -> str:
        return fingerprint(self.rule, self.group)

    def heard_firing(self) -> bool:
        """Whether a receiver was told this alert fires and not yet that it resolved."""
        return FIRING in self.sent.values()


@dataclass(frozen=True)
class Transition:
    """One change of one alert, as the history keeps it."""

    at: int
    rule: str
    group: str
    state: str
    value: float | None
    count: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def key(self) -> str:
        """Deterministic per change, so a replayed step writes the same history record again, once."""
        return f"{self.rule}\x1f{self.group}\x1f{self.at}\x1f{self.state}"


@dataclass
class AlertState:
    """Everything an evaluator needs to continue where the last one stopped."""

    evaluated_to: int | None = None
    """The last step evaluated (ms); the next one follows it."""
    alerts: dict[str, Alert] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "evaluated_to": self.evaluated_to, "alerts": [asdict(a) for a in self.alerts.values()]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlertState:
        alerts = [Alert(**a) for a in data.get("alerts", [])]
        return cls(data.get("evaluated_to"), {a.key: a for a in alerts})

    def of_rule(self, rule: str) -> list[Alert]:
        return [a for a in self.alerts.values() if a.rule == rule]


def advance(state: AlertState, rule: str, hold_ms: int, at: int, measures: dict[str, Measure]) -> list[Transition]:
    """Move ``rule``'s alerts by the measures of the step ending at ``at``; the transitions, in order.

    A group whose condition holds becomes pending (or firing at once when ``hold_ms`` is 0), and
    firing once it held for ``hold_ms``; one that stops holding is dropped while pending and
    resolved while firing. Measures of alerts that stay pending or firing are updated.
    """
    out: list[Transition] = []
    for group, m in measures.items():
        if not m.active:
            continue
        key = fingerprint(rule, group)
        alert = state.alerts.get(key)
        if alert is None or alert.state == RESOLVED:
            sent = alert.sent if alert is not None else {}
            sent_at = alert.sent_at if alert is not None else {}
            alert = state.alerts[key] = Alert(rule, group, PENDING, at, sent=sent, sent_at=sent_at)
            out.append(Transition(at, rule, group, PENDING, m.value, m.count))
        alert.value, alert.count, alert.evaluated_at = m.value, m.count, at
        if alert.state == PENDING and at - alert.active_at >= hold_ms:
            alert.state, alert.fired_at = FIRING, at
            out.append(Transition(at, rule, group, FIRING, m.value, m.count))
    for alert in state.of_rule(rule):
        now = measures.get(alert.group)
        if now is not None and now.active or alert.state == RESOLVED:
            continue
        value, count = (now.value, now.count) if now is not None else (None, 0)
        if alert.state == PENDING:
            if alert.heard_firing():  # it fired before and a receiver missed the resolution: send it
                alert.state, alert.resolved_at, alert.evaluated_at = RESOLVED, at, at
            else:
                del state.alerts[alert.key]
            out.append(Transition(at, rule, alert.group, INACTIVE, value, count))
        else:
            alert.state, alert.resolved_at, alert.evaluated_at = RESOLVED, at, at
            alert.value, alert.count = value, count
            out.append(Transition(at, rule, alert.group, RESOLVED, value, count))
    return out


def forget_delivered(state: AlertState) -> None:
    """Drop resolved alerts no receiver still believes firing."""
    for key in [k for k, a in state.alerts.items() if a.state == RESOLVED and not a.heard_firing()]:
        del state.alerts[key]
