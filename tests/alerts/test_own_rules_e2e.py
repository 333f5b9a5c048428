"""logferry's own rules, end to end and without Prometheus: `logferry run` tails an app's log, evaluates
``[[alerts.rules]]`` over what it stored and notifies a real Alertmanager (whose webhook the test reads),
a JSON webhook and a Slack-compatible webhook; firing during a burst of 5xx lines, resolved after it.

Then the hostile cases: the evaluator killed mid-firing and started again sends no second "firing";
an Alertmanager stopped for 30 s gets the alert once it is back, while ingestion goes on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.app_logs import LogferryRun, RequestLog, Traffic, metric_value
from tests.monitoring import Server, WebhookReceiver, alertmanager_config, notifications, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

RULE = "ShopErrors"


def run_config(log: Path, am_url: str, hook_url: str, link: str = "http://logs.example.test:8080") -> str:
    return f"""
[input]
paths = ["{log}"]

[alerts]
interval = 1
delay = 1
resend_interval = 2
retry_initial_backoff = 0.2
retry_max_backoff = 2
link_url = "{link}"

[[alerts.receivers]]
type = "alertmanager"
url = "{am_url}"

[[alerts.receivers]]
type = "webhook"
url = "{hook_url}/webhook"

[[alerts.receivers]]
type = "slack"
url = "{hook_url}/slack"

[[alerts.rules]]
name = "{RULE}"
kind = "ratio"
service = "shop"
q = "method:*"
numerator = {{ status = "5xx" }}
threshold = 0.05
min_count = 5
window = "10s"
for = "3s"
group_by = "endpoint"
labels = {{ severity = "page" }}
annotations = {{ summary = "{{value}} of requests to {{group}} failed" }}
"""


def webhook_states(hook: WebhookReceiver) -> list[str]:
    return [b["status"] for b in hook.bodies("/webhook") if b["rule"] == RULE]


def in_alertmanager(am: Server) -> list[dict[str, Any]]:
    return [
        a for a in am.api("/api/v2/alerts") if a["labels"]["alertname"] == RULE and a["status"]["state"] == "active"
    ]


def stored_events(run: LogferryRun) -> int:
    return int(httpx.get(f"{run.url}/api/v1/events", params={"from": "now-1h", "size": 1}, timeout=10).json()["total"])


def start_all(
    tmp_path: Path,
    start_alertmanager: Callable[[str], Server],
    hook: WebhookReceiver,
    request_log: Callable[[Path], RequestLog],
) -> tuple[Server, RequestLog, LogferryRun, Traffic]:
    am = start_alertmanager(alertmanager_config(hook.url))
    log = request_log(tmp_path / "app.log")
    log.request(200, 12.0)
    run = LogferryRun(tmp_path, run_config(log.path, am.url, hook.url)).start()
    traffic = Traffic(log, rate=20).start()
    return am, log, run, traffic


def test_a_rule_fires_at_alertmanager_and_both_webhooks_with_samples_and_a_link_then_resolves(
    tmp_path: Path,
    start_alertmanager: Callable[[str], Server],
    webhook: Callable[[], WebhookReceiver],
    request_log: Callable[[Path], RequestLog],
) -> None:
    hook = webhook()
    am, log, run, traffic = start_all(tmp_path, start_alertmanager, hook, request_log)
    try:
        time.sleep(3)  # a calm stretch: nothing may fire on 200s
        assert webhook_states(hook) == [] and in_alertmanager(am) == []
        traffic.errors = 0.5
        wait_until(lambda: "firing" in webhook_states(hook), 60, "the webhook to get firing")
        wait_until(lambda: in_alertmanager(am), 30, "the alert in Alertmanager")
        wait_until(lambda: notifications(hook, RULE), 30, "Alertmanager's webhook to get the alert")
        wait_until(lambda: hook.bodies("/slack"), 30, "the Slack webhook to get a message")
        traffic.errors = 0.0
        wait_until(lambda: "resolved" in webhook_states(hook), 60, "the webhook to get resolved")
        wait_until(lambda: any(s == "resolved" for s, _ in notifications(hook, RULE)), 60, "Alertmanager to resolve it")
        wait_until(lambda: len(hook.bodies("/slack")) >= 2, 30, "the Slack webhook to get the resolution")
    finally:
        traffic.stop()
        assert run.stop() == 0, run.log_text()[-3000:]

    assert webhook_states(hook) == ["firing", "resolved"]
    firing = next(b for b in hook.bodies("/webhook") if b["status"] == "firing")
    assert firing["labels"] == {"alertname": RULE, "severity": "page", "endpoint": "/api/v1/orders/{id}"}
    assert firing["value"] > 0.05 and firing["count"] >= 5
    assert 1 <= len(firing["samples"]) <= 5 and all(s == "request failed" for s in firing["samples"])
    assert firing["annotations"]["summary"].endswith("of requests to /api/v1/orders/{id} failed")
    assert set(firing["annotations"]) >= {"value", "count", "samples", "search_url"}
    link = urlparse(firing["search_url"])
    params = {k: v[0] for k, v in parse_qs(link.query).items()}
    assert (link.scheme, link.netloc, link.path) == ("http", "logs.example.test:8080", "/")
    assert params["service"] == "shop" and params["status"] == "5xx" and params["endpoint"] == "/api/v1/orders/{id}"
    assert params["q"] == "method:*" and params["from"] < params["to"]
    am_alert = notifications(hook, RULE)[0][1]
    assert am_alert["labels"]["endpoint"] == "/api/v1/orders/{id}" and am_alert["generatorURL"] == firing["search_url"]
    assert "samples" in am_alert["annotations"] and "samples" not in am_alert["labels"]
    slack = hook.bodies("/slack")
    assert "[FIRING] ShopErrors" in slack[0]["text"] and "[RESOLVED] ShopErrors" in slack[-1]["text"]
    assert [s for s, _ in notifications(hook, RULE)].count("firing") == 1


def test_killed_mid_firing_and_started_again_it_sends_no_second_firing_and_still_resolves(
    tmp_path: Path,
    start_alertmanager: Callable[[str], Server],
    webhook: Callable[[], WebhookReceiver],
    request_log: Callable[[Path], RequestLog],
) -> None:
    hook = webhook()
    am, log, run, traffic = start_all(tmp_path, start_alertmanager, hook, request_log)
    try:
        traffic.errors = 0.5
        wait_until(lambda: "firing" in webhook_states(hook), 60, "the webhook to get firing")
        wait_until(lambda: notifications(hook, RULE), 30, "Alertmanager's webhook to get the alert")
        run.kill()  # kill -9 while the alert fires
        time.sleep(2)
        run.start()
        time.sleep(6)  # the restarted evaluator catches up and keeps the alert firing
        assert webhook_states(hook) == ["firing"], "the restart sent the alert again"
        traffic.errors = 0.0
        wait_until(lambda: "resolved" in webhook_states(hook), 60, "the webhook to get resolved")
        wait_until(lambda: any(s == "resolved" for s, _ in notifications(hook, RULE)), 60, "Alertmanager to resolve")
    finally:
        traffic.stop()
        assert run.stop() == 0, run.log_text()[-3000:]
    assert webhook_states(hook) == ["firing", "resolved"]
    assert [s for s, _ in notifications(hook, RULE)] == ["firing", "resolved"]
    assert [b["text"].split("]")[0] for b in hook.bodies("/slack")] == ["*[FIRING", "*[RESOLVED"]


def test_an_alertmanager_down_for_30_seconds_gets_the_alert_once_back_and_ingestion_goes_on(
    tmp_path: Path,
    start_alertmanager: Callable[[str], Server],
    webhook: Callable[[], WebhookReceiver],
    request_log: Callable[[Path], RequestLog],
) -> None:
    hook = webhook()
    am, log, run, traffic = start_all(tmp_path, start_alertmanager, hook, request_log)
    try:
        am.stop()
        down_at = time.monotonic()
        stored_before = stored_events(run)
        traffic.errors = 0.5
        wait_until(lambda: "firing" in webhook_states(hook), 60, "the webhook to get firing (Alertmanager down)")
        retried = wait_until(
            lambda: metric_value(
                run.metrics(), "logferry_alert_notifications_total", receiver="alertmanager-0", outcome="retried"
            ),
            30,
            "logferry to retry Alertmanager",
        )
        time.sleep(max(0.0, 30 - (time.monotonic() - down_at)))
        stored_while_down = stored_events(run)
        am.start()
        wait_until(lambda: in_alertmanager(am), 60, "the alert in Alertmanager once it is back")
        wait_until(lambda: notifications(hook, RULE), 30, "Alertmanager's webhook to get the alert")
    finally:
        traffic.stop()
        assert run.stop() == 0, run.log_text()[-3000:]
    assert retried >= 1
    assert stored_while_down - stored_before >= 20 * 20, "ingestion slowed while Alertmanager was down"
    assert [s for s, _ in notifications(hook, RULE)][0] == "firing"
