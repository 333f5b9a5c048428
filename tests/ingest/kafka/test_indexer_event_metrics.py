"""An indexer (`logferry index --metrics`) serves the metrics made from the events it processes, with a real Kafka."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.app_logs import metric_value
from tests.ingest.kafka.conftest import finish, logferry, run, wait_until, write_logs
from tests.monitoring import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_the_indexer_serves_http_requests_total_and_log_events_total_for_what_it_indexed(
    tmp_path: Path, kafka_bootstrap: str, scaleout_topic: Callable[[int], str], kafka_group_id: str
) -> None:
    write_logs(tmp_path / "logs", 3000, 2)
    topic = scaleout_topic(2)
    glob = str(tmp_path / "logs" / "*.log")
    run("ship", glob, "--to", "kafka", "--kafka", kafka_bootstrap, "--topic", topic, "--once", data_dir=tmp_path / "s")
    port = free_port()
    indexer = logferry(
        "index",
        "--kafka",
        kafka_bootstrap,
        "--topic",
        topic,
        "--group",
        kafka_group_id,
        "--to",
        "duckdb",
        "--metrics",
        f"127.0.0.1:{port}",
        data_dir=tmp_path / "indexer",
    )

    def scraped() -> str:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        except httpx.TransportError:
            return ""

    try:
        wait_until(lambda: metric_value(scraped(), "log_events_total") == 3000, 120, "3000 events counted")
        text = scraped()
    finally:
        indexer.send_signal(signal.SIGTERM)
        finish(indexer)
    requests = metric_value(text, "http_requests_total")
    assert 1000 < requests < 3000, "the sample's HTTP requests are most, not all, of its lines"
    assert metric_value(text, "http_requests_total", service="api-gateway") == requests
    assert metric_value(text, "http_request_duration_seconds_count") == requests
    assert metric_value(text, "log_errors_total") > 0
