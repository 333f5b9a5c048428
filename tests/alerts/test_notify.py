"""Delivery to a receiver on a loopback HTTP server: what is due, retries with backoff, refusals, resends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alerts.evaluator import SharedState
from alerts.notify import AlertmanagerSender, Delivery, SlackSender, WebhookSender
from alerts.state import FIRING, RESOLVED, Alert, AlertState
from alerts.store import FileStateStore
from core.retry import RetryPolicy
from tests.monitoring import WebhookReceiver

POLICY = RetryPolicy(initial=0.5, cap=4.0)


def shared_with(tmp_path: Path, *alerts: Alert) -> SharedState:
    store = FileStateStore(tmp_path / "alerts")
    shared = SharedState(store, store.lease("me"))
    assert shared.lease.acquire()
    shared.state = AlertState(evaluated_to=0, alerts={a.key: a for a in alerts})
    return shared


def firing(group: str = "/api/v1/orders/{id}") -> Alert:
    return Alert(
        "ShopErrors",
        group,
        FIRING,
        active_at=1_000,
        fired_at=2_000,
        value=0.4,
        count=50,
        labels={"alertname": "ShopErrors", "endpoint": group},
        annotations={
            "summary": "errors",
            "value": "0.4",
            "count": "50",
            "samples": "a\nb",
            "search_url": "http://x/?q=a",
        },
        samples=["a", "b"],
        search_url="http://x/?q=a",
    )


def test_a_receiver_that_is_down_is_retried_with_growing_waits_and_gets_the_alert_once_back(
    tmp_path: Path, webhook: Callable[[], WebhookReceiver]
) -> None:
    hook = webhook()
    hook.failing = True
    shared = shared_with(tmp_path, firing())
    delivery = Delivery(WebhookSender("hook", f"{hook.url}/w", 5.0), shared, POLICY)

    waits = [delivery.run_once() for _ in range(4)]
    assert hook.attempts == 4 and hook.received == []
    assert all(0.25 <= w <= 4.0 for w in waits) and max(waits[2:]) > min(waits[:1]), waits
    hook.failing = False
    delivery.run_once()
    delivery.run_once()
    assert [b["status"] for b in hook.bodies()] == ["firing"], "sent twice or not at all"
    assert FileStateStore(tmp_path / "alerts").load().alerts[firing().key].sent == {"hook": FIRING}


def test_a_refusal_is_not_retried(tmp_path: Path, webhook: Callable[[], WebhookReceiver]) -> None:
    hook = webhook()
    shared = shared_with(tmp_path, firing())
    hook.refusing = True
    delivery = Delivery(WebhookSender("hook", f"{hook.url}/w", 5.0), shared, POLICY)
    assert delivery.run_once() == 0.0
    delivery.run_once()
    assert hook.attempts == 1, "a 400 was retried"
    assert shared.state.alerts[firing().key].sent == {"hook": FIRING}


def test_webhook_and_slack_get_firing_then_resolved_once_each(
    tmp_path: Path, webhook: Callable[[], WebhookReceiver]
) -> None:
    hook = webhook()
    alert = firing()
    shared = shared_with(tmp_path, alert)
    deliveries = [
        Delivery(WebhookSender("hook", f"{hook.url}/w", 5.0), shared, POLICY),
        Delivery(SlackSender("slack", f"{hook.url}/s", 5.0), shared, POLICY),
    ]
    for d in deliveries:
        d.run_once()
        d.run_once()
    alert.state, alert.resolved_at = RESOLVED, 9_000
    for d in deliveries:
        d.run_once()
        d.run_once()
    assert [b["status"] for b in hook.bodies("/w")] == ["firing", "resolved"]
    body = hook.bodies("/w")[0]
    assert body["samples"] == ["a", "b"] and body["value"] == 0.4 and body["search_url"] == "http://x/?q=a"
    assert body["labels"] == {"alertname": "ShopErrors", "endpoint": "/api/v1/orders/{id}"}
    texts = [b["text"] for b in hook.bodies("/s")]
    assert texts[0].startswith("*[FIRING] ShopErrors*") and "<http://x/?q=a|show the lines>" in texts[0]
    assert texts[1].startswith("*[RESOLVED] ShopErrors*")
    assert shared.state.alerts == {}, "a resolved alert every receiver heard is forgotten"


def test_alertmanager_gets_firing_alerts_again_every_resend_and_a_resolution_with_its_end(
    tmp_path: Path, webhook: Callable[[], WebhookReceiver]
) -> None:
    hook = webhook()
    alert = firing()
    shared = shared_with(tmp_path, alert)
    clock = [1000.0]
    delivery = Delivery(AlertmanagerSender("am", hook.url, 5.0, resend=10.0), shared, POLICY, clock=lambda: clock[0])
    delivery.run_once()
    clock[0] += 5
    assert 4.9 <= delivery.run_once() <= 5.0, "waits until the resend is due"
    clock[0] += 5
    delivery.run_once()
    alert.state, alert.resolved_at = RESOLVED, 1_003_000
    delivery.run_once()
    posts = hook.bodies("/api/v2/alerts")
    assert len(posts) == 3
    first, resent, resolved = (p[0] for p in posts)
    assert first["labels"] == {"alertname": "ShopErrors", "endpoint": "/api/v1/orders/{id}"}
    assert first["startsAt"] == "1970-01-01T00:00:02.000Z" and first["endsAt"] == "1970-01-01T00:17:20.000Z"
    assert resent["endsAt"] == "1970-01-01T00:17:30.000Z"
    assert resolved["endsAt"] == "1970-01-01T00:16:43.000Z"
    assert "samples" in first["annotations"] and first["generatorURL"] == "http://x/?q=a"


def test_nothing_is_sent_without_the_lease(tmp_path: Path, webhook: Callable[[], WebhookReceiver]) -> None:
    hook = webhook()
    shared = shared_with(tmp_path, firing())
    shared.lease.release()
    Delivery(WebhookSender("hook", f"{hook.url}/w", 5.0), shared, POLICY).run_once()
    assert hook.attempts == 0
