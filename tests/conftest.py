"""Service fixtures: a real Elasticsearch and Kafka (and Chromium, tests/browser.py) for the tests that need them.

By default `scripts/services up` starts both on 127.0.0.1 (once per session; the script is
idempotent and locks, so parallel sessions share one pair of servers). ELASTICSEARCH_URL and
KAFKA_BOOTSTRAP_SERVERS point the tests at other servers and then nothing is started.

Tests that use these fixtures are marked `elasticsearch` / `kafka` (and `integration`)
automatically. An unreachable server skips them with the reason, except when
LOGFERRY_REQUIRE_SERVICES=1: then such a skip is turned into a failure, so a run that was meant
to exercise the real servers can never pass without them.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import uuid
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError

from tests.browser import BROWSER_FIXTURES
from tests.monitoring import MONITORING_FIXTURES

pytest_plugins = ["tests.app_logs", "tests.browser", "tests.monitoring"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICES_SCRIPT = REPO_ROOT / "scripts" / "services"
LOOPBACK = "127.0.0.1"

ELASTICSEARCH_FIXTURES = frozenset({"es_url", "es_client", "index_prefix"})
KAFKA_FIXTURES = frozenset({"kafka_bootstrap", "kafka_admin", "kafka_topic", "kafka_group_id"})
SERVICE_MARKERS = ("elasticsearch", "kafka", "browser", "monitoring")


def services_required() -> bool:
    return os.environ.get("LOGFERRY_REQUIRE_SERVICES") == "1"


def run_services_script(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run scripts/services; its own locking makes concurrent callers safe."""
    return subprocess.run(
        [str(SERVICES_SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def _start_with_script(service: str) -> str | None:
    """Start one service with the script; the error text when it could not be started."""
    try:
        result = run_services_script("up", service)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"scripts/services up {service} did not run: {error}"
    if result.returncode != 0:
        return f"scripts/services up {service} exited {result.returncode}:\n{result.stderr[-3000:]}"
    return None


# ---------------------------------------------------------------- markers and skip-is-failure


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & ELASTICSEARCH_FIXTURES:
            item.add_marker(pytest.mark.elasticsearch)
        if used & KAFKA_FIXTURES:
            item.add_marker(pytest.mark.kafka)
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if used & MONITORING_FIXTURES:
            item.add_marker(pytest.mark.monitoring)
        if used & (ELASTICSEARCH_FIXTURES | KAFKA_FIXTURES | BROWSER_FIXTURES | MONITORING_FIXTURES):
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    needs_service = any(item.get_closest_marker(name) for name in SERVICE_MARKERS)
    if report.skipped and needs_service and services_required() and not hasattr(report, "wasxfail"):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        report.outcome = "failed"
        report.longrepr = (
            f"LOGFERRY_REQUIRE_SERVICES=1: this test needs a real server and may not be skipped.\nSkip reason: {reason}"
        )
    return report


# ---------------------------------------------------------------- Elasticsearch


@pytest.fixture(scope="session")
def es_managed() -> bool:
    """True when the servers come from scripts/services (so tests may stop and start them)."""
    return not os.environ.get("ELASTICSEARCH_URL")


@pytest.fixture(scope="session")
def es_url(es_managed: bool) -> str:
    if not es_managed:
        url = os.environ["ELASTICSEARCH_URL"].rstrip("/")
    else:
        error = _start_with_script("es")
        if error:
            pytest.skip(f"Elasticsearch not available: {error}")
        url = f"http://{LOOPBACK}:{os.environ.get('LOGFERRY_ES_PORT', '9200')}"
    probe = Elasticsearch(url, request_timeout=10)
    try:
        health = probe.cluster.health(wait_for_status="yellow", timeout="30s")
    except Exception as error:
        pytest.skip(f"Elasticsearch at {url} does not answer: {type(error).__name__}: {str(error)[:300]}")
    finally:
        probe.close()
    if health.get("status") not in ("yellow", "green"):
        pytest.skip(f"Elasticsearch at {url} is not healthy: {dict(health)}")
    return url


@pytest.fixture(scope="session")
def es_client(es_url: str) -> Iterator[Elasticsearch]:
    client = Elasticsearch(es_url, request_timeout=60, retry_on_timeout=True, max_retries=3)
    yield client
    client.close()


@pytest.fixture
def index_prefix(es_client: Elasticsearch) -> Iterator[str]:
    """A unique lowercase name prefix; `<prefix>*` indices and templates are deleted afterwards."""
    prefix = f"t-{uuid.uuid4().hex[:10]}"
    yield prefix
    pattern = f"{prefix}*"
    es_client.options(ignore_status=404).indices.delete_index_template(name=pattern)
    es_client.options(ignore_status=404).indices.delete_template(name=pattern)
    es_client.options(ignore_status=404).cluster.delete_component_template(name=pattern)
    es_client.indices.delete(index=pattern, expand_wildcards="all", ignore_unavailable=True, allow_no_indices=True)


# ---------------------------------------------------------------- Kafka


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        error = _start_with_script("kafka")
        if error:
            pytest.skip(f"Kafka not available: {error}")
        bootstrap = f"{LOOPBACK}:{os.environ.get('LOGFERRY_KAFKA_PORT', '9092')}"
    try:
        probe = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    except (KafkaError, OSError, ValueError) as error:
        pytest.skip(f"Kafka at {bootstrap} does not answer: {type(error).__name__}: {str(error)[:300]}")
    probe.close()
    return bootstrap


@pytest.fixture(scope="session")
def kafka_admin(kafka_bootstrap: str) -> Iterator[KafkaAdminClient]:
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap, request_timeout_ms=30000)
    yield admin
    admin.close()


@pytest.fixture
def kafka_topic(kafka_admin: KafkaAdminClient) -> Iterator[str]:
    """A fresh topic with one partition, created before the test and deleted after it."""
    topic = f"t-{uuid.uuid4().hex[:10]}"
    kafka_admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)], wait_for_metadata=True)
    kafka_admin.wait_for_topics([topic], timeout_ms=30000)
    yield topic
    with contextlib.suppress(KafkaError):
        kafka_admin.delete_topics([topic])


@pytest.fixture
def kafka_group_id(kafka_admin: KafkaAdminClient) -> Iterator[str]:
    """A unique consumer group id; the group is deleted after the test when it exists."""
    group = f"t-group-{uuid.uuid4().hex[:10]}"
    yield group
    with contextlib.suppress(KafkaError):
        kafka_admin.delete_groups([group])
