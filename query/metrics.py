"""The API's own metrics, in the pipeline's registry so that one ``/metrics`` shows both."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from core.metrics import REGISTRY

API_REQUESTS = Counter(
    "logferry_api_requests", "API requests, by route and status.", ["route", "method", "status"], registry=REGISTRY
)
API_LATENCY = Histogram(
    "logferry_api_request_seconds",
    "Time to answer an API request, by route.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
