"""Receivers: Alertmanager's API v2, a generic JSON webhook and a Slack-compatible webhook.

Delivery is reconciled, not queued: each receiver looks at the alerts and sends those whose state it
has not accepted yet (``Alert.sent``), so a receiver that is down gets the latest state once it is
back, a restart does not send a firing alert twice, and a resolution is never forgotten. Each
receiver runs on a thread of its own and retries with exponential backoff (``core.retry``): a slow
or dead receiver delays nobody else, neither the other receivers nor the evaluation, and never the
ingest pipeline. An answer 4xx (but 429) is a refusal: counted, logged, and not retried.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from alerts import metrics
from alerts.config import AlertmanagerReceiver, ReceiverConfig, SlackReceiver, WebhookReceiver, receiver_name
from alerts.state import FIRING, RESOLVED, Alert
from core.retry import RetryPolicy

log = logging.getLogger("logferry.alerts")


class DeliveryFailed(Exception):
    """A receiver did not take a notification; ``retriable`` unless it refused it (4xx)."""

    def __init__(self, message: str, retriable: bool = True) -> None:
        super().__init__(message)
        self.retriable = retriable


def iso(ms: float) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def alert_id(alert: Alert) -> str:
    return hashlib.sha1(alert.key.encode()).hexdigest()[:16]


class Receiver:
    """What to send a receiver and how; subclasses say what is due and how it is posted."""

    def __init__(self, name: str, url: str, timeout: float, headers: dict[str, str] | None = None) -> None:
        self.name = name
        self.url = url
        self.headers = headers or {}
        self._client = httpx.Client(timeout=timeout)

    def due(self, alert: Alert, now: float) -> bool:
        """Firing and not yet accepted as firing; or resolved after it was accepted as firing."""
        sent = alert.sent.get(self.name)
        return (alert.state == FIRING and sent != FIRING) or (alert.state == RESOLVED and sent == FIRING)

    def next_due(self, alerts: list[Alert], now: float) -> float | None:
        """When, by the clock, something becomes due without a new evaluation (None: never)."""
        return None

    def deliver(self, alerts: list[Alert], now: float, accepted: Callable[[list[Alert]], None]) -> None:
        """Send ``alerts``; call ``accepted`` with each part the receiver took. Raises ``DeliveryFailed``."""
        for alert in alerts:
            self._post(self.payload(alert, now))
            accepted([alert])

    def payload(self, alert: Alert, now: float) -> Any:
        raise NotImplementedError

    def _post(self, body: Any) -> None:
        try:
            response = self._client.post(self.url, json=body, headers=self.headers)
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"{self.url}: {type(exc).__name__}: {exc}") from None
        if response.status_code >= 300:
            retriable = response.status_code == 429 or response.status_code >= 500
            raise DeliveryFailed(f"{self.url} answered {response.status_code}: {response.text[:300]}", retriable)

    def close(self) -> None:
        self._client.close()


class AlertmanagerSender(Receiver):
    """``POST /api/v2/alerts`` with every due alert at once. Firing alerts are sent again every
    ``resend`` seconds with ``endsAt`` four resends ahead (as Prometheus does), so Alertmanager resolves
    them by itself if logferry stops; a resolved one is sent once with its ``endsAt``."""

    def __init__(self, name: str, url: str, timeout: float, resend: float) -> None:
        super().__init__(name, url.rstrip("/") + "/api/v2/alerts", timeout)
        self.resend = resend

    def due(self, alert: Alert, now: float) -> bool:
        if alert.state == FIRING and alert.sent.get(self.name) == FIRING:
            return now - alert.sent_at.get(self.name, 0.0) >= self.resend
        return super().due(alert, now)

    def next_due(self, alerts: list[Alert], now: float) -> float | None:
        times = [a.sent_at.get(self.name, 0.0) + self.resend for a in alerts if a.state == FIRING]
        return min(times) if times else None

    def deliver(self, alerts: list[Alert], now: float, accepted: Callable[[list[Alert]], None]) -> None:
        self._post([self.payload(a, now) for a in alerts])
        accepted(alerts)

    def payload(self, alert: Alert, now: float) -> dict[str, Any]:
        ends = alert.resolved_at if alert.state == RESOLVED else (now + 4 * self.resend) * 1000
        return {
            "labels": alert.labels,
            "annotations": {k: v for k, v in alert.annotations.items() if v},
            "startsAt": iso(alert.fired_at or alert.active_at),
            "endsAt": iso(ends or now * 1000),
            "generatorURL": alert.search_url,
        }


class WebhookSender(Receiver):
    """One JSON document per notification: the alert's state, labels, annotations, value, count,
    sample lines and the link to the search that shows them."""

    def payload(self, alert: Alert, now: float) -> dict[str, Any]:
        return {
            "source": "logferry",
            "status": alert.state,
            "id": alert_id(alert),
            "rule": alert.rule,
            "group": alert.group,
            "labels": alert.labels,
            "annotations": alert.annotations,
            "value": alert.value,
            "count": alert.count,
            "samples": alert.samples,
            "search_url": alert.search_url,
            "startsAt": iso(alert.fired_at or alert.active_at),
            "endsAt": iso(alert.resolved_at) if alert.resolved_at is not None else None,
        }


class SlackSender(Receiver):
    """Slack's incoming-webhook message: ``{"text": …}`` in Slack's markup, samples in a code block."""

    def payload(self, alert: Alert, now: float) -> dict[str, Any]:
        status = "FIRING" if alert.state == FIRING else "RESOLVED"
        group = f" {alert.group}" if alert.group else ""
        summary = alert.annotations.get("summary", "")
        lines = [
            f"*[{status}] {alert.rule}*{group}: {summary}",
            f"value {alert.annotations.get('value', '-')}, {alert.count} events — <{alert.search_url}|show the lines>",
        ]
        if alert.samples and alert.state == FIRING:
            lines.append("```" + "\n".join(s[:300] for s in alert.samples) + "```")
        return {"text": "\n".join(lines)}


def build_receiver(config: ReceiverConfig, index: int, timeout: float, resend: float) -> Receiver:
    name = receiver_name(config, index)
    if isinstance(config, AlertmanagerReceiver):
        return AlertmanagerSender(name, config.url, timeout, resend)
    if isinstance(config, WebhookReceiver):
        return WebhookSender(name, config.url, timeout, config.headers)
    assert isinstance(config, SlackReceiver)
    return SlackSender(name, config.url, timeout)


class Delivery:
    """One receiver's thread: it sends what is due whenever woken (after each evaluation step), when
    a resend falls due, and after a failure when its backoff has passed."""

    IDLE_WAIT = 5.0

    def __init__(self, receiver: Receiver, shared: Any, policy: RetryPolicy, clock: Callable[[], float] = time.time):
        self.receiver = receiver
        self.shared = shared
        """``alerts.evaluator.SharedState``: the alerts, their lock, the store and the lease."""
        self.policy = policy
        self.clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"alerts-{receiver.name}", daemon=True)
        self.failures = 0

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        self.receiver.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self.run_once()
            except Exception:  # noqa: BLE001 - a failure to save (the store is down) must not end delivery
                log.exception("alert delivery to %s failed; trying again", self.receiver.name)
                wait = self.IDLE_WAIT
            self._wake.wait(wait)
            self._wake.clear()

    def run_once(self) -> float:
        """Send what is due now; how long to wait before looking again."""
        if not self.shared.lease_held():
            return self.IDLE_WAIT
        now = self.clock()
        with self.shared.lock:
            alerts = list(self.shared.state.alerts.values())
            due = [_snapshot(a) for a in alerts if self.receiver.due(a, now)]
            upcoming = self.receiver.next_due(alerts, now)
        if due:
            try:
                self.receiver.deliver(due, now, lambda part: self._accepted(part, now))
            except DeliveryFailed as exc:
                if not exc.retriable:
                    metrics.NOTIFICATIONS.labels(self.receiver.name, "refused").inc(len(due))
                    log.error("alert receiver %s refused a notification, not retried: %s", self.receiver.name, exc)
                    self._accepted([a for a in due if a.sent.get(self.receiver.name) != a.state], now)
                    return 0.0
                self.failures += 1
                metrics.NOTIFICATIONS.labels(self.receiver.name, "retried").inc(len(due))
                delay = self.policy.delay(self.failures)
                log.warning(
                    "alert receiver %s failed (attempt %d), retrying in %.1fs: %s",
                    self.receiver.name,
                    self.failures,
                    delay,
                    exc,
                )
                return delay
            self.failures = 0
            return 0.0
        if upcoming is None:
            return self.IDLE_WAIT
        return max(0.05, min(self.IDLE_WAIT, upcoming - now))

    def _accepted(self, alerts: list[Alert], now: float) -> None:
        """Remember that the receiver took these alerts in the state they had when sent."""
        name = self.receiver.name
        with self.shared.lock:
            for sent in alerts:
                current = self.shared.state.alerts.get(sent.key)
                if current is not None:
                    current.sent[name] = sent.state
                    current.sent_at[name] = now
        metrics.NOTIFICATIONS.labels(name, "sent").inc(len(alerts))
        self.shared.save()


def _snapshot(alert: Alert) -> Alert:
    """A copy that stays as it was while it is being sent."""
    return Alert(**{**alert.__dict__, "sent": dict(alert.sent), "sent_at": dict(alert.sent_at)})
