"""``[alerts]``: how often rules are evaluated, where notifications go, and ``[[alerts.rules]]``.

A rule selects events with the filters of the API and the CLI (``q``, ``level``, ``service``,
``endpoint``, ``status`` …: the same names, the same meaning) and says what to measure over them
(``kind``) in a ``window``; a condition that holds for ``for`` fires. ``group_by`` makes one alert per
value of a field. The rule is checked when the config is loaded: a query that does not parse, a field
that is not known (in ``group_by``, ``field``, or in ``q`` unless listed in ``source_fields``) or a
duplicate name is refused with a message naming the rule.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_RULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_:.-]*$")


def parse_duration(value: Any) -> Any:
    """``"30s"``, ``"5m"``, ``"1h"``, ``"7d"``, ``"250ms"`` or a number of seconds, as seconds."""
    if isinstance(value, str):
        found = _DURATION.match(value)
        if not found:
            raise ValueError(f"{value!r} is not a duration such as 30s, 5m, 1h or 7d")
        return float(found.group(1)) * _UNIT_SECONDS[found.group(2) or "s"]
    return value


Seconds = Annotated[float, BeforeValidator(parse_duration), Field(ge=0)]
"""A duration in seconds, given as a number or as ``30s``/``5m``/``1h``/``7d``."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Selection(_Model):
    """Which events: the filters of the API and of ``logferry search`` (``query.filters.FILTER_PARAMS``)
    without the time range, which the rule's window gives."""

    q: str | None = Field(None, description="Lucene query string, e.g. level:error AND userId:u1.")
    level: str | None = Field(None, description="A level or a comma-separated list (warn,error).")
    user: str | None = Field(None, description="user.id, exactly.")
    endpoint: str | None = Field(None, description="Templated route; a concrete path is templated first.")
    path: str | None = Field(None, description="url.path, exactly.")
    status: str | None = Field(None, description="HTTP status: 500, 5xx or 400-599.")
    tag: str | None = Field(None, description="A tag the pipeline set, e.g. slow_request or error.")
    service: str | None = Field(None, description="service.name, exactly.")

    def filters(self) -> dict[str, str | None]:
        """The filter values by ``build_filters`` keyword."""
        return {name: getattr(self, name) for name in Selection.model_fields}


class _RuleBase(Selection):
    name: str = Field(description="The alert's name (alertname in Alertmanager); unique.")
    window: Seconds = Field(300.0, gt=0, description="What the measure covers, ending at the evaluation time.")
    for_: Seconds = Field(0.0, alias="for", description="How long the condition must hold before it fires.")
    group_by: str | None = Field(None, description="One alert per value of this field (e.g. endpoint).")
    max_groups: int = Field(100, ge=1, le=10_000, description="Groups measured, most events first.")
    source_fields: tuple[str, ...] = Field(
        (), description="Source field names q may use beside the ECS names and their aliases."
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Added to the alert's labels (severity …).")
    annotations: dict[str, str] = Field(
        default_factory=dict,
        description="Added to the alert's annotations; {value}, {count}, {group} and {threshold} are filled in.",
    )

    @model_validator(mode="after")
    def _valid_name(self) -> _RuleBase:
        if not _RULE_NAME.match(self.name):
            raise ValueError(f"rule name {self.name!r} must be letters, digits, '_', ':', '.', '-' (not first)")
        return self


class CountRule(_RuleBase):
    """Fires when more than ``threshold`` events match in the window."""

    kind: Literal["count"]
    threshold: float = Field(0, ge=0)


class RatioRule(_RuleBase):
    """Fires when the share of the selected events that also match ``numerator`` passes ``threshold``
    (an error rate), once at least ``min_count`` events were selected."""

    kind: Literal["ratio"]
    numerator: Selection
    threshold: float = Field(ge=0)
    min_count: int = Field(1, ge=1)


class LatencyRule(_RuleBase):
    """Fires when the ``percentile`` of ``event.duration`` passes ``threshold_ms``, over at least ``min_count``."""

    kind: Literal["latency"]
    percentile: float = Field(95.0, gt=0, le=100)
    threshold_ms: float = Field(ge=0)
    min_count: int = Field(1, ge=1)


class FlatlineRule(_RuleBase):
    """Fires when fewer than ``threshold`` events match in the window (a service went quiet). Grouped, the
    groups are those seen in the ``lookback`` before, so a group that stops entirely is noticed."""

    kind: Literal["flatline"]
    threshold: int = Field(1, ge=1)
    lookback: Seconds = Field(3600.0, gt=0)


class SpikeRule(_RuleBase):
    """Fires when the window holds more than ``factor`` times the events of the window before it (and at
    least ``min_count``)."""

    kind: Literal["spike"]
    factor: float = Field(3.0, gt=1)
    min_count: int = Field(10, ge=1)


class NewValueRule(_RuleBase):
    """Fires for each value of ``field`` seen in the window but not in the ``lookback`` before it (a new
    ``error.type``, a new error group), one alert per value, until its first sighting leaves the window."""

    kind: Literal["new_value"]
    field: str
    lookback: Seconds = Field(7 * 86400.0, gt=0)

    @model_validator(mode="after")
    def _one_grouping(self) -> NewValueRule:
        if self.group_by is not None:
            raise ValueError(f"rule {self.name!r}: a new_value rule is grouped by its field; drop group_by")
        return self


RuleConfig = Annotated[
    CountRule | RatioRule | LatencyRule | FlatlineRule | SpikeRule | NewValueRule, Field(discriminator="kind")
]


class AlertmanagerReceiver(_Model):
    """Alertmanager's API v2 (``POST /api/v2/alerts``): firing alerts re-sent every ``resend_interval``,
    a resolved one once with its ``endsAt``."""

    type: Literal["alertmanager"]
    name: str | None = Field(None, description="Default: the type and its place in the list.")
    url: str = Field(description="Alertmanager's base URL, e.g. http://127.0.0.1:9093.")


class WebhookReceiver(_Model):
    """A JSON document per notification (firing, then resolved) POSTed to ``url``."""

    type: Literal["webhook"]
    name: str | None = None
    url: str
    headers: dict[str, str] = Field(default_factory=dict, description="Sent with each request (Authorization …).")


class SlackReceiver(_Model):
    """A Slack incoming webhook (or anything that takes Slack's ``{"text": …}``)."""

    type: Literal["slack"]
    name: str | None = None
    url: str


ReceiverConfig = Annotated[AlertmanagerReceiver | WebhookReceiver | SlackReceiver, Field(discriminator="type")]


RECEIVERS_EXAMPLE = """\
[[alerts.receivers]]
type = "alertmanager"
url = "http://127.0.0.1:9093"

[[alerts.receivers]]
type = "webhook"
url = "https://hooks.example.com/logferry"
headers = { Authorization = "Bearer …" }

[[alerts.receivers]]
type = "slack"
url = "https://hooks.example.com/slack/T000/B000/XXXX"
"""

RULES_EXAMPLE = """\
# The monitoring guides' HighErrorRate, from the stored lines, one alert per endpoint. Every rule takes the
# filters of the API: q, level, user, endpoint, path, status, tag, service.
[[alerts.rules]]
name = "HighErrorRate"
kind = "ratio"
q = "method:*"
numerator = { status = "5xx" }
threshold = 0.05
min_count = 20
window = "5m"
for = "5m"
group_by = "endpoint"
labels = { severity = "page" }
annotations = { summary = "{value} of the requests to {group} failed" }

[[alerts.rules]]
name = "HighResponseTime"
kind = "latency"
percentile = 95
threshold_ms = 2000
window = "5m"
for = "5m"

[[alerts.rules]]
name = "PaymentErrors"
kind = "count"
service = "payments"
level = "error"
threshold = 50
window = "10m"

[[alerts.rules]]
name = "ServiceQuiet"
kind = "flatline"
group_by = "service"
window = "10m"
lookback = "1h"

[[alerts.rules]]
name = "ErrorSpike"
kind = "spike"
level = "error"
factor = 3
min_count = 20
window = "5m"

[[alerts.rules]]
name = "NewErrorType"
kind = "new_value"
field = "error.type"
window = "10m"
lookback = "7d"
"""


class AlertsConfig(_Model):
    """``[alerts]``: evaluated by ``run`` and ``serve``, one process per deployment at a time (a lease)."""

    enabled: bool = Field(True, description="Evaluate the rules in run and serve (when there are rules).")
    interval: Seconds = Field(30.0, gt=0, description="Evaluate every this long, at multiples of it in event time.")
    delay: Seconds = Field(
        60.0, description="Evaluate event time this far behind the clock, so late lines are stored first."
    )
    max_catch_up: int = Field(
        120, ge=1, description="Steps evaluated at once after a pause (a restart); older ones are skipped."
    )
    lease: Seconds = Field(
        0.0, description="How long an evaluator's lease in Elasticsearch lasts unrenewed (0: 3 intervals, >= 30 s)."
    )
    link_url: str | None = Field(
        None, description="Base URL of the web page in notifications' links (default: http://[api] host:port)."
    )
    samples: int = Field(5, ge=0, le=5, description="Sample lines in a notification.")
    resend_interval: Seconds = Field(60.0, gt=0, description="Firing alerts are sent to Alertmanager again this often.")
    timeout: Seconds = Field(10.0, gt=0, description="Per notification request.")
    retry_initial_backoff: Seconds = Field(1.0, gt=0)
    retry_max_backoff: Seconds = Field(60.0, gt=0)
    receivers: list[ReceiverConfig] = Field(
        default_factory=list,
        description="[[alerts.receivers]] type = alertmanager | webhook | slack, url = …, e.g.:",
        json_schema_extra={"toml_example": RECEIVERS_EXAMPLE},
    )
    rules: list[RuleConfig] = Field(
        default_factory=list,
        description="[[alerts.rules]] name, kind = count | ratio | latency | flatline | spike | new_value, …, e.g.:",
        json_schema_extra={"toml_example": RULES_EXAMPLE},
    )

    @model_validator(mode="after")
    def _checked(self) -> AlertsConfig:
        from alerts.rules import check_rule

        names = [rule.name for rule in self.rules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"alert rule names must be unique: {', '.join(twice)} given more than once")
        for rule in self.rules:
            check_rule(rule)
        receivers = [receiver_name(r, i) for i, r in enumerate(self.receivers)]
        if len(set(receivers)) != len(receivers):
            raise ValueError(f"receiver names must be unique, got {receivers}")
        if self.retry_initial_backoff > self.retry_max_backoff:
            raise ValueError("retry_initial_backoff must not exceed retry_max_backoff")
        return self

    def lease_seconds(self) -> float:
        return self.lease or max(30.0, 3 * self.interval)


def receiver_name(receiver: AlertmanagerReceiver | WebhookReceiver | SlackReceiver, index: int) -> str:
    """The name a receiver's deliveries are remembered under."""
    return receiver.name or f"{receiver.type}-{index}"
