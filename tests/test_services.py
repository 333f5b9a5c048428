"""Plumbing: the real Elasticsearch and Kafka from scripts/services carry a realistic volume.

These prove the servers, the Python clients and the fixtures work together before any
logferry code depends on them: bulk indexing into a daily index, and a Kafka consumer group
that reads everything produced and commits exactly the end offset.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch, helpers
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICES_SCRIPT = REPO_ROOT / "scripts" / "services"
SERVICES_MODULE = REPO_ROOT / "scripts" / "services.py"

DOCUMENT_COUNT = 10_000
RECORD_COUNT = 10_000
LEVELS = ("debug", "info", "warn", "error")


def daily_documents(index: str, count: int) -> Iterator[dict[str, object]]:
    for offset in range(count):
        yield {
            "_index": index,
            "_id": f"plumbing:{offset}",
            "_source": {
                "@timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "message": f"request {offset} handled",
                "log": {"level": LEVELS[offset % len(LEVELS)], "offset": offset},
                "event": {"duration": offset * 1000},
            },
        }


def test_bulk_indexes_ten_thousand_documents_into_a_daily_index(es_client: Elasticsearch, index_prefix: str) -> None:
    es_client.indices.put_index_template(
        name=f"{index_prefix}-template",
        index_patterns=[f"{index_prefix}-*"],
        template={
            "settings": {"number_of_shards": 1, "number_of_replicas": 0},
            "mappings": {
                "properties": {
                    "@timestamp": {"type": "date"},
                    "log": {"properties": {"level": {"type": "keyword"}, "offset": {"type": "long"}}},
                }
            },
        },
    )
    index = f"{index_prefix}-{datetime.now(UTC):%Y.%m.%d}"

    indexed, errors = helpers.bulk(es_client, daily_documents(index, DOCUMENT_COUNT), chunk_size=2000)
    es_client.indices.refresh(index=index)

    assert (indexed, errors) == (DOCUMENT_COUNT, [])
    assert es_client.count(index=index)["count"] == DOCUMENT_COUNT
    mapping = es_client.indices.get_mapping(index=index)[index]["mappings"]["properties"]
    assert mapping["@timestamp"]["type"] == "date", "the index template was not applied"
    levels = es_client.search(index=index, size=0, aggs={"levels": {"terms": {"field": "log.level"}}})
    per_level = {bucket["key"]: bucket["doc_count"] for bucket in levels["aggregations"]["levels"]["buckets"]}
    assert per_level == {level: DOCUMENT_COUNT // len(LEVELS) for level in LEVELS}


def test_consumer_group_reads_every_record_and_commits_the_end_offset(
    kafka_bootstrap: str, kafka_topic: str, kafka_group_id: str
) -> None:
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", linger_ms=5)
    try:
        futures = [producer.send(kafka_topic, f"record-{sequence}".encode()) for sequence in range(RECORD_COUNT)]
        producer.flush(timeout=60)
        offsets = [future.get(timeout=30).offset for future in futures]
    finally:
        producer.close(timeout=10)
    assert sorted(offsets) == list(range(RECORD_COUNT))

    partition = TopicPartition(kafka_topic, 0)
    received: list[bytes] = []
    consumer = KafkaConsumer(
        kafka_topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=kafka_group_id,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        deadline = time.monotonic() + 120
        while len(received) < RECORD_COUNT and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000, max_records=2000).values():
                received.extend(record.value for record in records)
        consumer.commit()
        committed = consumer.committed(partition)
        end_offset = consumer.end_offsets([partition])[partition]
    finally:
        consumer.close()

    assert len(received) == RECORD_COUNT
    assert set(received) == {f"record-{sequence}".encode() for sequence in range(RECORD_COUNT)}
    assert committed == end_offset == RECORD_COUNT

    leftover: list[bytes] = []
    second = KafkaConsumer(
        kafka_topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=kafka_group_id,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        deadline = time.monotonic() + 60
        resumed_at = None
        while time.monotonic() < deadline:
            for records in second.poll(timeout_ms=500).values():
                leftover.extend(record.value for record in records)
            if partition in second.assignment():
                resumed_at = second.position(partition)
                break
    finally:
        second.close()

    assert resumed_at == RECORD_COUNT, "the group did not resume at its committed offset"
    assert leftover == []


def test_status_reports_both_servers_up_with_their_versions(
    es_client: Elasticsearch, es_url: str, kafka_bootstrap: str
) -> None:
    if os.environ.get("ELASTICSEARCH_URL") or os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        pytest.skip("servers come from ELASTICSEARCH_URL/KAFKA_BOOTSTRAP_SERVERS, not scripts/services")
    es_version = es_client.info()["version"]["number"]

    result = subprocess.run(
        [str(SERVICES_SCRIPT), "status", "es", "kafka"], capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stdout + result.stderr
    fields = [line.split() for line in result.stdout.splitlines()]
    es_line = next(line for line in fields if line[0] == "elasticsearch")
    kafka_line = next(line for line in fields if line[0] == "kafka")
    assert es_line[1:4] == [es_version, es_url, "up,"], result.stdout
    assert kafka_line[1].startswith("4.") and kafka_line[2:4] == [kafka_bootstrap, "up"], result.stdout


def test_services_code_is_a_module_that_ruff_and_mypy_check() -> None:
    """ruff only lints ``*.py`` and mypy only checks its ``files``: the code must live in such a module."""
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    assert "scripts/services.py" in config["tool"]["mypy"]["files"]
    assert SERVICES_MODULE.is_file()
    assert "def main(" in SERVICES_MODULE.read_text()
    assert "def " not in SERVICES_SCRIPT.read_text(), "scripts/services only launches services.py"


def test_launcher_runs_the_module_with_the_same_usage() -> None:
    launched = subprocess.run([str(SERVICES_SCRIPT), "--help"], capture_output=True, text=True, timeout=60)
    direct = subprocess.run(
        [sys.executable, str(SERVICES_MODULE), "--help"], capture_output=True, text=True, timeout=60
    )
    assert launched.returncode == direct.returncode == 0, launched.stderr + direct.stderr
    assert launched.stdout == direct.stdout
    assert launched.stdout.startswith("usage: scripts/services ")
    wrong = subprocess.run(
        [sys.executable, str(SERVICES_SCRIPT), "sideways"], capture_output=True, text=True, timeout=60
    )
    assert wrong.returncode == 2 and "invalid choice: 'sideways'" in wrong.stderr


# Imports of any module of the dev extras fail in the processes below, as on a machine where only
# `scripts/demo` (logferry without extras) installed anything.
WITHOUT_DEV_EXTRAS = """
import importlib.abc, importlib.metadata, re, sys
def _name(requirement):
    return re.split(r"[ <>=!~;\\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")
_dev = {_name(r) for r in importlib.metadata.requires("logferry") or () if 'extra == "dev"' in r}
_blocked = {m for m, dists in importlib.metadata.packages_distributions().items()
            if any(d.lower().replace("_", "-") in _dev for d in dists)}
class _NoDevExtras(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in _blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (the dev extras are not installed)", name=name)
        return None
sys.meta_path.insert(0, _NoDevExtras())
"""


def without_dev_extras(tmp_path: Path, *command: str) -> subprocess.CompletedProcess[str]:
    site = tmp_path / "no-dev-extras"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(WITHOUT_DEV_EXTRAS)
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(list(command), capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)


def test_the_dev_extras_are_really_blocked(tmp_path: Path) -> None:
    probe = without_dev_extras(tmp_path, sys.executable, "-c", "import kafka")
    assert probe.returncode == 1 and "the dev extras are not installed" in probe.stderr
    assert without_dev_extras(tmp_path, sys.executable, "-c", "import confluent_kafka, logferry").returncode == 0


def test_services_and_the_scale_out_commands_need_no_dev_extras(
    tmp_path: Path, es_url: str, kafka_bootstrap: str, kafka_topic: str, kafka_group_id: str, index_prefix: str
) -> None:
    """The README's scale-out path right after `scripts/demo`: services up, ship to Kafka, index into
    Elasticsearch, retention."""
    if os.environ.get("ELASTICSEARCH_URL") or os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        pytest.skip("servers come from ELASTICSEARCH_URL/KAFKA_BOOTSTRAP_SERVERS, not scripts/services")
    up = without_dev_extras(tmp_path, sys.executable, str(SERVICES_MODULE), "up")
    assert up.returncode == 0, up.stderr
    status = without_dev_extras(tmp_path, sys.executable, str(SERVICES_MODULE), "status")
    assert status.returncode == 0 and "kafka" in status.stdout and " up " in status.stdout, status.stdout
    log = tmp_path / "app.log"
    now = datetime.now(UTC)
    log.write_text(
        "".join(f'{{"@timestamp": "{now.isoformat()}", "level": "error", "msg": "failed {i}"}}\n' for i in range(20))
    )
    logferry = [sys.executable, "-m", "logferry", "--data-dir", str(tmp_path / "data")]
    kafka = ["--kafka", kafka_bootstrap, "--topic", kafka_topic]
    ship = without_dev_extras(tmp_path, *logferry, "ship", str(log), "--to", "kafka", *kafka, "--once")
    assert ship.returncode == 0 and "20 events written" in ship.stderr, ship.stderr
    es = ["--es-url", es_url, "--index-prefix", index_prefix]
    index = without_dev_extras(
        tmp_path, *logferry, "index", *kafka, "--group", kafka_group_id, *es, "--exit-when-idle", "3"
    )
    assert index.returncode == 0 and "20 events written" in index.stderr, index.stderr
    retention = without_dev_extras(tmp_path, *logferry, "retention", "--keep-days", "14", *es, "--dry-run")
    assert retention.returncode == 0, retention.stderr


def test_the_kafka_round_trip_check_uses_logferrys_own_client(kafka_bootstrap: str) -> None:
    """What `scripts/services up` runs after starting Kafka: create, produce (acks=all), consume, delete."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("services_module", SERVICES_MODULE)
    assert spec is not None and spec.loader is not None
    services = importlib.util.module_from_spec(spec)
    sys.modules["services_module"] = services
    spec.loader.exec_module(services)
    layout = services.Layout.from_env()
    if layout.kafka_bootstrap != kafka_bootstrap:
        pytest.skip("the broker is not the one scripts/services manages")
    assert services.kafka_answers(layout)
    services.kafka_round_trip(layout)


def test_prometheus_and_alertmanager_run_from_debians_packages_with_the_shipped_rules(
    monitoring_bin: dict[str, Path],
) -> None:
    """`scripts/services up` runs the shared Prometheus (the shipped rules loaded, alerting the shared
    Alertmanager) and Alertmanager; `status` names their versions (those docker-compose.yml runs too)."""
    if os.environ.get("LOGFERRY_PROMETHEUS_PORT") or os.environ.get("LOGFERRY_ALERTMANAGER_PORT"):
        pytest.skip("other ports than the defaults: the default URLs below do not apply")
    up = subprocess.run(
        [str(SERVICES_SCRIPT), "up", "prometheus", "alertmanager"], capture_output=True, text=True, timeout=600
    )
    assert up.returncode == 0, up.stderr
    status = subprocess.run(
        [str(SERVICES_SCRIPT), "status", "prometheus", "alertmanager"], capture_output=True, text=True, timeout=120
    )
    assert status.returncode == 0, status.stdout + status.stderr
    lines = {line.split()[0]: line.split() for line in status.stdout.splitlines()}
    assert lines["prometheus"][1:4] == ["2.42.0", "http://127.0.0.1:9090", "up"], status.stdout
    assert lines["alertmanager"][1:4] == ["0.25.0", "http://127.0.0.1:9095", "up"], status.stdout

    import json
    import urllib.request

    with urllib.request.urlopen("http://127.0.0.1:9090/api/v1/rules", timeout=10) as response:
        groups = json.loads(response.read())["data"]["groups"]
    assert {rule["name"] for group in groups for rule in group["rules"]} >= {"HighErrorRate", "HighResponseTime"}
    with urllib.request.urlopen("http://127.0.0.1:9090/api/v1/alertmanagers", timeout=10) as response:
        active = json.loads(response.read())["data"]["activeAlertmanagers"]
    assert [am["url"] for am in active] == ["http://127.0.0.1:9095/api/v2/alerts"]
    with urllib.request.urlopen("http://127.0.0.1:9095/api/v2/status", timeout=10) as response:
        assert json.loads(response.read())["cluster"]["status"] == "disabled"
