"""A notification's link opens the web page (a real Chromium) on the lines behind the alert."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from pathlib import Path

from alerts.config import AlertsConfig
from alerts.evaluator import Evaluator, SharedState
from alerts.rules import Rule
from alerts.state import FIRING
from alerts.store import FileStateStore
from logferry.config import load_settings
from tests.alerts.alert_corpus import START
from tests.alerts.test_rules_backends import RULES
from tests.browser import LoopbackPage
from tests.ui.conftest import serving

RATE = Rule(AlertsConfig.model_validate({"rules": [r for r in RULES if r["name"] == "EndpointErrorRate"]}).rules[0])


def test_the_link_of_a_firing_alert_shows_its_lines_on_the_page(
    loopback_page: LoopbackPage, alert_data_dir: Path, tmp_path: Path
) -> None:
    settings = load_settings(None, data_dir=alert_data_dir)
    with serving(settings) as served:
        store = FileStateStore(tmp_path / "alerts")
        shared = SharedState(store, store.lease("t"))
        evaluator = Evaluator([RATE], served_backend(alert_data_dir), AlertsConfig(), shared, link_url=served.url)
        at = START + dt.timedelta(minutes=40)
        for step in range(5):  # `for` is 2 minutes
            evaluator.step(int((at + dt.timedelta(minutes=step)).timestamp() * 1000))
        (alert,) = [a for a in shared.state.alerts.values() if a.state == FIRING]
        assert alert.search_url.startswith(served.url + "/?")

        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(alert.search_url).query))
        expected = served.api.get("/api/v1/events", params={**params, "size": 1}).json()["total"]
        page = loopback_page.page
        page.goto(alert.search_url)
        page.wait_for_selector("#hits")
        total = int(page.locator("#hits").get_attribute("data-total") or "-1")
        text = page.locator("body").inner_text()
        loopback_page.screenshot("alert-link")

    assert total == expected > 0, "the page does not show the alert's lines"
    assert params["endpoint"] == alert.group == "/api/v1/payments/{id}" and params["status"] == "5xx"
    assert alert.samples and all(sample in text for sample in alert.samples[:3])


def served_backend(data_dir: Path):  # type: ignore[no-untyped-def]
    from query.duckdb_backend import DuckDBBackend
    from store.day_store import DayStore

    return DuckDBBackend(DayStore(data_dir / "events"))
