"""docker-compose.yml stays usable: every service can start, be reached and report health.

Docker is not needed here: the file is parsed and checked against what scripts/services runs,
so the Docker stack and the Maven-fetched servers cannot drift to different versions.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
SERVICES_SCRIPT = REPO_ROOT / "scripts" / "services.py"


def load_services() -> dict[str, dict[str, Any]]:
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict), "docker-compose.yml is not a mapping"
    services = document.get("services")
    assert isinstance(services, dict) and services, "docker-compose.yml defines no services"
    return services


def script_default(name: str) -> str:
    found = re.search(rf'^{name} = "([^"]+)"$', SERVICES_SCRIPT.read_text(), re.MULTILINE)
    assert found, f"{name} not found in scripts/services"
    return found.group(1)


def environment(service: dict[str, Any]) -> dict[str, str]:
    """Compose allows environment as a list of KEY=VALUE or as a mapping; normalise to a dict."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        return dict(entry.split("=", 1) for entry in raw)
    return {key: str(value) for key, value in raw.items()}


def image_tag(service: dict[str, Any]) -> tuple[str, str]:
    name, _, tag = service["image"].rpartition(":")
    return name, tag


def test_compose_declares_elasticsearch_kafka_and_kibana() -> None:
    assert {"elasticsearch", "kafka", "kibana"} <= set(load_services())


@pytest.mark.parametrize("name", sorted(load_services()))
def test_every_service_has_an_image_ports_and_a_healthcheck(name: str) -> None:
    service = load_services()[name]

    assert service.get("image") or service.get("build"), f"{name} has neither image nor build"
    assert service.get("ports"), f"{name} publishes no ports"
    healthcheck = service.get("healthcheck") or {}
    assert healthcheck.get("test"), f"{name} has no healthcheck test"
    assert not healthcheck.get("disable"), f"{name} disables its healthcheck"


@pytest.mark.parametrize("name", sorted(load_services()))
def test_published_ports_are_bound_to_loopback(name: str) -> None:
    for port in load_services()[name].get("ports", []):
        assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} beyond this machine"


def test_elasticsearch_and_kibana_run_the_version_scripts_services_runs() -> None:
    services = load_services()
    es_version = script_default("DEFAULT_ES_VERSION")

    assert image_tag(services["elasticsearch"])[1] == es_version
    assert image_tag(services["kibana"])[1] == es_version


def test_kafka_is_the_official_image_of_the_version_scripts_services_runs() -> None:
    image, tag = image_tag(load_services()["kafka"])

    assert (image, tag) == ("apache/kafka", script_default("DEFAULT_KAFKA_VERSION"))


def test_elasticsearch_is_a_single_node_without_security_for_local_use() -> None:
    settings = environment(load_services()["elasticsearch"])

    assert settings["discovery.type"] == "single-node"
    assert settings["xpack.security.enabled"] == "false"
    assert "local use only" in COMPOSE_FILE.read_text()


def test_kafka_is_one_kraft_node_with_single_replica_internal_topics() -> None:
    settings = environment(load_services()["kafka"])

    assert settings["KAFKA_PROCESS_ROLES"] == "broker,controller"
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert settings[key] == "1", key
    assert "127.0.0.1:9092" in settings["KAFKA_ADVERTISED_LISTENERS"]


def test_compose_runs_prometheus_and_alertmanager_of_the_versions_scripts_services_runs() -> None:
    services = load_services()

    assert image_tag(services["prometheus"]) == ("prom/prometheus", "v" + script_default("DEFAULT_PROMETHEUS_VERSION"))
    assert image_tag(services["alertmanager"]) == (
        "prom/alertmanager",
        "v" + script_default("DEFAULT_ALERTMANAGER_VERSION"),
    )


def test_prometheus_and_alertmanager_mount_the_shipped_deploy_configs() -> None:
    services = load_services()
    mounts = {name: [str(v).split(":") for v in services[name].get("volumes", [])] for name in services}

    prometheus_dir = next(src for src, dst, *_ in mounts["prometheus"] if dst == "/etc/prometheus")
    alertmanager_dir = next(src for src, dst, *_ in mounts["alertmanager"] if dst == "/etc/alertmanager")
    assert (REPO_ROOT / prometheus_dir / "prometheus.yml").is_file()
    assert (REPO_ROOT / prometheus_dir / "rules.yml").is_file()
    assert (REPO_ROOT / alertmanager_dir / "alertmanager.yml").is_file()
    assert "--config.file=/etc/prometheus/prometheus.yml" in services["prometheus"]["command"]
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in services["alertmanager"]["command"]


def test_prometheus_scrapes_every_logferry_process_that_processes_events_and_alerts_the_compose_alertmanager() -> None:
    services = load_services()
    config = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    targets = {
        target
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    }
    alertmanagers = {
        target for am in config["alerting"]["alertmanagers"] for s in am["static_configs"] for target in s["targets"]
    }

    assert alertmanagers == {"alertmanager:9093"}
    assert "9093:9093" in " ".join(map(str, services["alertmanager"]["ports"]))
    for name, service in services.items():
        listen = environment(service).get("LOGFERRY_METRICS")
        if service.get("command", [""])[0] == "index":
            assert listen, f"{name} indexes events but serves no metrics"
            assert f"{name}:{listen.rpartition(':')[2]}" in targets, f"Prometheus does not scrape {name}"
    assert "api:8080" in targets
