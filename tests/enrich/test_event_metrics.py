"""Metrics made from events: what each event counts in, the cardinality caps, expiry, and the exposition."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from enrich.event_metrics import OTHER, EventMetricsConfig, EventMetricStore, EventTally

SECOND = 1_000_000_000


def request(
    status: int | None = 200,
    millis: float | None = 20,
    endpoint: str = "/api/v1/orders/{id}",
    service: Any = "shop",
    level: str = "info",
    error_type: str | None = None,
    method: str = "GET",
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "http.request.method": method,
        "endpoint": endpoint,
        "service.name": service,
        "log.level": level,
        "tags": ["http"],
    }
    if status is not None:
        event["http.response.status_code"] = status
    if millis is not None:
        event["event.duration"] = round(millis * 1_000_000)
    if error_type is not None or level == "error":
        event["tags"].append("error")
    if error_type is not None:
        event["error.type"] = error_type
    return event


def exposition(store: EventMetricStore) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """``{sample name: {sorted labels: value}}`` as Prometheus would read /metrics."""
    registry = CollectorRegistry()
    registry.register(store)
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def counted(store: EventMetricStore, events: list[dict[str, Any]]) -> dict[str, dict[Any, float]]:
    tally = store.tally()
    for event in events:
        tally.observe(event)
    store.add(tally.take())
    return exposition(store)


def test_a_request_counts_in_every_family_with_its_labels() -> None:
    got = counted(EventMetricStore(), [request(500, 2300, level="error", error_type="TimeoutError")])
    labels = (
        ("endpoint", "/api/v1/orders/{id}"),
        ("method", "GET"),
        ("service", "shop"),
        ("status", "500"),
        ("status_class", "5xx"),
    )
    assert got["http_requests_total"] == {labels: 1.0}
    assert got["log_events_total"] == {(("level", "error"), ("service", "shop")): 1.0}
    assert got["log_errors_total"] == {(("error_type", "TimeoutError"), ("service", "shop")): 1.0}
    assert got["http_request_duration_seconds_sum"] == {(("endpoint", "/api/v1/orders/{id}"), ("service", "shop")): 2.3}
    buckets = {dict(k)["le"]: v for k, v in got["http_request_duration_seconds_bucket"].items()}
    assert {le: buckets[le] for le in ("0.5", "1.0", "2.0", "2.5", "5.0", "+Inf")} == {
        "0.5": 0,
        "1.0": 0,
        "2.0": 0,
        "2.5": 1,
        "5.0": 1,
        "+Inf": 1,
    }


def test_a_duration_of_exactly_a_bound_counts_in_that_bucket_and_a_nanosecond_more_in_the_next() -> None:
    tally = EventTally()
    at_two = request(millis=2000)
    beyond = request(millis=None)
    beyond["event.duration"] = 2 * SECOND + 1
    store = EventMetricStore()
    for event in (at_two, beyond):
        tally.observe(event)
    store.add(tally.take())
    buckets = {dict(k)["le"]: v for k, v in exposition(store)["http_request_duration_seconds_bucket"].items()}
    assert (buckets["1.0"], buckets["2.0"], buckets["2.5"]) == (0, 1, 2)


def test_events_that_are_not_requests_count_only_as_log_events() -> None:
    got = counted(
        EventMetricStore(),
        [{"log.level": "warn", "service.name": "worker", "tags": []}, {"message": "no level, no service"}],
    )
    assert "http_requests_total" not in got and "log_errors_total" not in got
    assert got["log_events_total"] == {
        (("level", "warn"), ("service", "worker")): 1.0,
        (("level", ""), ("service", "")): 1.0,
    }


def test_values_of_other_types_are_the_empty_label_and_a_request_without_status_has_no_class() -> None:
    got = counted(EventMetricStore(), [request(status=None, service=42, millis=None)])
    ((labels, value),) = got["http_requests_total"].items()
    assert dict(labels) == {
        "endpoint": "/api/v1/orders/{id}",
        "method": "GET",
        "service": "",
        "status": "",
        "status_class": "",
    }
    assert value == 1 and "http_request_duration_seconds_count" not in got


def test_past_its_cap_a_label_counts_as_other_and_the_overflow_is_counted() -> None:
    store = EventMetricStore(EventMetricsConfig(label_value_cap=3))
    got = counted(store, [request(endpoint=f"/e/{i}") for i in range(10)] + [request(endpoint="/e/0")])
    endpoints = {dict(k)["endpoint"]: v for k, v in got["http_requests_total"].items()}
    assert endpoints == {"/e/0": 2, "/e/1": 1, "/e/2": 1, OTHER: 7}
    assert got["logferry_event_metrics_overflow_total"][(("label", "endpoint"),)] == 7
    assert store.label_values("endpoint") == 3


def test_idle_series_expire_and_free_their_label_values() -> None:
    now = [0.0]
    store = EventMetricStore(EventMetricsConfig(label_value_cap=2, expire_after=60), clock=lambda: now[0])
    counted(store, [request(endpoint="/old/1"), request(endpoint="/old/2")])
    now[0] = 30.0
    counted(store, [request(endpoint="/old/2")])
    now[0] = 75.0
    got = counted(store, [request(endpoint="/new")])
    endpoints = {dict(k)["endpoint"] for k in got["http_requests_total"]}
    assert endpoints == {"/old/2", "/new"}, "the idle series did not expire or its value kept its slot"


def test_the_prefix_goes_before_every_name_made_from_events() -> None:
    got = counted(EventMetricStore(EventMetricsConfig(prefix="logs_")), [request()])
    assert {"logs_http_requests_total", "logs_log_events_total", "logs_http_request_duration_seconds_bucket"} <= set(
        got
    )
    assert "http_requests_total" not in got


@pytest.mark.parametrize("prefix", ["1x_", "a-b", "é_"])
def test_a_prefix_that_is_no_metric_name_is_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="Prometheus metric name"):
        EventMetricsConfig(prefix=prefix)


def test_buckets_must_increase() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        EventMetricsConfig(buckets=(1.0, 0.5))


def test_a_stored_document_counts_as_its_event_does() -> None:
    """The compiled chain's documents (nested objects) count as the Python chain's flat events."""
    event = request(503, 1500, level="error", error_type="DbError")
    doc = {
        "http": {"request": {"method": "GET"}, "response": {"status_code": 503}},
        "event": {"duration": event["event.duration"]},
        "endpoint": event["endpoint"],
        "service": {"name": "shop"},
        "log": {"level": "error"},
        "error": {"type": "DbError"},
        "tags": event["tags"],
    }
    flat, nested = EventTally(), EventTally()
    flat.observe(event)
    nested.observe_document(doc)
    assert flat.take() == nested.take()
