"""deploy/prometheus: the seeds' two rules, run verbatim (windows shortened) by a real Prometheus over the
metrics a real `logferry run` makes from the log lines it tails, delivered by a real Alertmanager.

The only change to the shipped rules is their time: ``[5m]`` windows become ``[20s]`` and ``for: 5m``
becomes ``for: 5s``; the expressions, metric names and labels are the shipped ones.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.app_logs import LogferryRun, RequestLog, Traffic
from tests.monitoring import Server, WebhookReceiver, alertmanager_config, notifications, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = (DEPLOY / "prometheus" / "rules.yml").read_text()


def shortened(rules: str) -> str:
    """The shipped rules with 20 s windows and a 5 s ``for``; nothing else changes."""
    out = rules.replace("[5m]", "[20s]").replace("for: 5m", "for: 5s")
    assert out.count("[20s]") == 3 and out.count("for: 5s") == 2, "the shipped rules changed shape"
    return out


def prometheus_config(target_port: int, alertmanager_port: int) -> str:
    return f"""
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
alerting:
  alertmanagers:
    - static_configs:
        - targets: ["127.0.0.1:{alertmanager_port}"]
scrape_configs:
  - job_name: logferry
    static_configs:
      - targets: ["127.0.0.1:{target_port}"]
"""


def test_promtool_unit_tests_of_the_shipped_rules_pass(monitoring_bin: dict[str, Path]) -> None:
    result = subprocess.run(
        [str(monitoring_bin["promtool"]), "test", "rules", "rules_test.yml"],
        cwd=DEPLOY / "prometheus",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_shipped_prometheus_and_alertmanager_configs_are_valid(monitoring_bin: dict[str, Path]) -> None:
    prometheus = subprocess.run(
        [str(monitoring_bin["promtool"]), "check", "config", "prometheus.yml"],
        cwd=DEPLOY / "prometheus",
        capture_output=True,
        text=True,
        timeout=120,
    )
    alertmanager = subprocess.run(
        [str(monitoring_bin["amtool"]), "check-config", "alertmanager.yml"],
        cwd=DEPLOY / "alertmanager",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert prometheus.returncode == 0, prometheus.stdout + prometheus.stderr
    assert "2 rules found" in prometheus.stdout
    assert alertmanager.returncode == 0, alertmanager.stdout + alertmanager.stderr


def test_the_rules_are_the_seeds_verbatim() -> None:
    assert (
        'expr: (sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))) > 0.05' in RULES
    )
    assert "expr: histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[5m])) by (le)) > 2" in RULES
    assert RULES.count("for: 5m") == 2


def _scraped_run(
    tmp_path: Path,
    start_alertmanager: Callable[[str], Server],
    start_prometheus: Callable[[str, str], Server],
    hook: WebhookReceiver,
    request_log: Callable[[Path], RequestLog],
) -> tuple[Server, Server, Traffic, LogferryRun]:
    """Alertmanager → webhook; `logferry run` tailing an app's log; Prometheus scraping it with the rules."""
    am = start_alertmanager(alertmanager_config(hook.url))
    log = request_log(tmp_path / "app.log")
    run = LogferryRun(tmp_path, f'[input]\npaths = ["{log.path}"]\n').start()
    traffic = Traffic(log, rate=20).start()
    prometheus = start_prometheus(prometheus_config(run.port, am.port), shortened(RULES))
    wait_until(
        lambda: prometheus.api("/api/v1/query?query=sum(http_requests_total)")["data"]["result"],
        60,
        "Prometheus to scrape http_requests_total from logferry run",
    )
    return am, prometheus, traffic, run


def _firing_in_alertmanager(am: Server, alertname: str) -> bool:
    return any(
        a["labels"]["alertname"] == alertname and a["status"]["state"] == "active" for a in am.api("/api/v2/alerts")
    )


@pytest.mark.parametrize(
    ("alertname", "burst"),
    [("HighErrorRate", "errors"), ("HighResponseTime", "slow")],
)
def test_a_seed_rule_fires_from_log_lines_in_alertmanager_and_resolves_when_the_burst_stops(
    tmp_path: Path,
    start_alertmanager: Callable[[str], Server],
    start_prometheus: Callable[[str, str], Server],
    webhook: Callable[[], WebhookReceiver],
    request_log: Callable[[Path], RequestLog],
    alertname: str,
    burst: str,
) -> None:
    hook = webhook()
    am, prometheus, traffic, run = _scraped_run(tmp_path, start_alertmanager, start_prometheus, hook, request_log)
    try:
        wait_until(lambda: not _firing_in_alertmanager(am, alertname), 5, "no alert before the burst")
        setattr(traffic, burst, 0.5)  # half the requests answer 503 / take 3 s

        wait_until(lambda: _firing_in_alertmanager(am, alertname), 120, f"{alertname} active in Alertmanager")
        wait_until(lambda: notifications(hook, alertname), 60, f"the webhook behind Alertmanager to get {alertname}")
        setattr(traffic, burst, 0.0)
        wait_until(
            lambda: any(status == "resolved" for status, _ in notifications(hook, alertname)),
            120,
            f"{alertname} resolved at the webhook",
        )
    finally:
        traffic.stop()
        assert run.stop() == 0, run.log_text()[-3000:]

    statuses = [status for status, _ in notifications(hook, alertname)]
    assert statuses[0] == "firing" and statuses[-1] == "resolved", statuses
    assert statuses.count("firing") == 1, f"one firing notification expected, got {statuses}"
    other = "HighResponseTime" if alertname == "HighErrorRate" else "HighErrorRate"
    assert notifications(hook, other) == [], f"{other} fired although only {burst} went up"
