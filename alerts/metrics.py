"""The alerting's own metrics, in the registry /metrics serves."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from core.metrics import REGISTRY

ALERTS = Gauge(
    "logferry_alerts", "Alerts of logferry's own rules, by rule and state.", ["rule", "state"], registry=REGISTRY
)
EVALUATIONS = Counter(
    "logferry_alert_evaluations",
    "Rule evaluations (one rule at one step), by outcome: ok, failed (the store did not answer), refused (a bad rule).",
    ["outcome"],
    registry=REGISTRY,
)
EVALUATION_SECONDS = Histogram(
    "logferry_alert_step_seconds",
    "Time to evaluate every rule at one step.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
NOTIFICATIONS = Counter(
    "logferry_alert_notifications",
    "Alerts delivered to a receiver, by outcome: sent, retried (a failed attempt), refused (a 4xx answer).",
    ["receiver", "outcome"],
    registry=REGISTRY,
)
EVALUATOR = Gauge(
    "logferry_alert_evaluator", "1 while this process holds the deployment's evaluator lease.", registry=REGISTRY
)
