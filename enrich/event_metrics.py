"""Prometheus metrics made from the events themselves, as Vector's ``log_to_metric`` makes them.

The monitoring guides alert on ``http_requests_total`` and ``http_request_duration_seconds``; many
services write request logs but export no metrics. Every processed event is counted into:

- ``http_requests_total{service, endpoint, method, status, status_class}``: events with an
  ``http.request.method`` (``tag_http`` made them HTTP requests);
- ``http_request_duration_seconds{service, endpoint}``: a histogram of their ``event.duration``, with
  the bounds 0.5, 1, 2, 2.5 and 5 s among the buckets so that "p95 above 2 s" is decided exactly;
- ``log_events_total{service, level}``: every event;
- ``log_errors_total{service, error_type}``: events tagged ``error`` (``tag_error``), by ``error.type``.

A value that is absent or not of its type (a ``service.name`` that is a number) is the empty label,
which Prometheus treats as no label. The names take an optional ``prefix``.

Two halves, so the compiled chain can count as cheaply as it processes:

- ``EventTally``: what a pipeline saw since it last reported, as counts per *fact* (one tuple of the
  values above, ``FACT_FIELDS``, with its events, duration sum and histogram buckets) — one dict
  update per event for the Python chain (``observe``), or a block's facts counted by the compiled
  chain (``native/src/facts.rs``) and added as data, one row per distinct fact (``add_facts``);
- ``EventMetricStore``: the series, where facts become labels under the cardinality caps (a label
  past ``label_value_cap`` values counts as ``__other__`` and the overflow is counted), idle series
  expire, and Prometheus collects them.
"""

from __future__ import annotations

import re
import threading
import time
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from typing import Any

import orjson
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString
from pydantic import BaseModel, ConfigDict, Field, field_validator

OTHER = "__other__"
"""The label value that stands for every value past a label's cap."""
DEFAULT_BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0)
ERROR_TAG = "error"
CAPPED_LABELS = ("service", "endpoint", "method", "status", "level", "error_type")
"""Labels whose distinct values are capped; ``status_class`` has five values by construction."""
_STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")

Fact = tuple[str | None, str | None, str | None, int | None, str | None, str | None, bool]
"""``(service, endpoint, method, status, level, error_type, error)`` of one event: what it counts under."""
FACT_FIELDS = ("service", "endpoint", "method", "status", "level", "error_type", "error")
Counts = list[Any]
"""Per fact: ``[events, summed event.duration (ns) of those with a bucket, events per histogram bucket]``;
the bucket list (one per bound, then +Inf) is ``None`` until an event of the fact has a duration. The
compiled chain reports the same as rows ``(*fact, events, duration_ns, buckets)`` (``EventTally.add_facts``)."""


class EventMetricsConfig(BaseModel):
    """``[event_metrics]``: the metrics made from events, on /metrics of every process that processes them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = Field(True, description="Count processed events into http_requests_total and the others.")
    prefix: str = Field("", description="Put before every name (e.g. 'logs_'); empty keeps the names rules use.")
    label_value_cap: int = Field(
        1000, ge=1, description="Distinct values per label; later ones count as __other__ (and as overflow)."
    )
    expire_after: float = Field(600.0, gt=0, description="Seconds a series may go without events before it is dropped.")
    buckets: tuple[float, ...] = Field(
        DEFAULT_BUCKETS, description="Upper bounds (s) of http_request_duration_seconds; keep 0.5, 1, 2, 2.5 and 5."
    )

    @field_validator("prefix")
    @classmethod
    def _metric_name_prefix(cls, prefix: str) -> str:
        if prefix and not _METRIC_NAME.fullmatch(prefix):
            raise ValueError(f"prefix {prefix!r} does not start a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)")
        return prefix

    @field_validator("buckets")
    @classmethod
    def _increasing(cls, buckets: tuple[float, ...]) -> tuple[float, ...]:
        if not buckets or any(b <= 0 for b in buckets) or list(buckets) != sorted(set(buckets)):
            raise ValueError(f"buckets must be positive and strictly increasing, got {list(buckets)}")
        return buckets


def bucket_bounds_ns(buckets: Iterable[float]) -> list[int]:
    """The bounds in integer nanoseconds, the unit of ``event.duration``: compared without rounding."""
    return [round(b * 1_000_000_000) for b in buckets]


class EventTally:
    """Counts per fact since the last ``take``; fed by one pipeline thread (events, or a block's facts)."""

    __slots__ = ("_bounds", "_counts", "_size")

    def __init__(self, buckets: Iterable[float] = DEFAULT_BUCKETS) -> None:
        self._bounds = bucket_bounds_ns(buckets)
        self._size = len(self._bounds) + 1
        self._counts: dict[Fact, Counts] = {}

    def observe(self, event: dict[str, Any]) -> None:
        """Count one finished event (flat dotted keys, as the processors leave it).

        An HTTP request (an ``http.request.method``) with an int ``event.duration`` counts in the
        bucket of the first bound not below it (``bisect_left``: a duration of exactly 2 s is ``le="2"``).
        """
        get = event.get
        method = get("http.request.method")
        if type(method) is not str:
            method = None
        service, endpoint, status, level, error_type, tags = (
            get("service.name"),
            get("endpoint"),
            get("http.response.status_code"),
            get("log.level"),
            get("error.type"),
            get("tags"),
        )
        fact = (
            service if type(service) is str else None,
            endpoint if type(endpoint) is str else None,
            method,
            status if type(status) is int else None,
            level if type(level) is str else None,
            error_type if type(error_type) is str else None,
            type(tags) is list and ERROR_TAG in tags,
        )
        counts = self._counts.get(fact)
        if counts is None:
            counts = self._counts[fact] = [0, 0, None]
        counts[0] += 1
        if method is not None:
            duration = get("event.duration")
            if type(duration) is int:
                hist = counts[2]
                if hist is None:
                    hist = counts[2] = [0] * self._size
                hist[bisect_left(self._bounds, duration)] += 1
                counts[1] += duration

    def observe_documents(self, docs: Iterable[bytes | None]) -> None:
        """Count documents the compiled chain wrote (``None``: a declined line, counted by ``observe``).

        For a compiled chain that does not count its facts itself (a build of ``logferry_native`` from
        before ``take_facts``): read back from the documents, at a cost the compiled path avoids.
        """
        for doc in docs:
            if doc is not None:
                self.observe_document(orjson.loads(doc))

    def observe_document(self, doc: dict[str, Any]) -> None:
        """Count one stored ECS document (nested objects), as ``observe`` counts its flat event."""
        http = doc.get("http")
        request = http.get("request") if type(http) is dict else None
        response = http.get("response") if type(http) is dict else None
        log_ = doc.get("log")
        error = doc.get("error")
        service = doc.get("service")
        ev = doc.get("event")
        flat: dict[str, Any] = {
            "http.request.method": request.get("method") if type(request) is dict else None,
            "http.response.status_code": response.get("status_code") if type(response) is dict else None,
            "event.duration": ev.get("duration") if type(ev) is dict else None,
            "service.name": service.get("name") if type(service) is dict else None,
            "endpoint": doc.get("endpoint"),
            "log.level": log_.get("level") if type(log_) is dict else None,
            "error.type": error.get("type") if type(error) is dict else None,
            "tags": doc.get("tags"),
        }
        self.observe(flat)

    def add_facts(self, rows: Iterable[tuple[Any, ...]]) -> None:
        """Add a block's facts as the compiled chain counted them: ``(*fact, events, duration_ns, buckets)``."""
        for row in rows:
            fact: Fact = row[:7]
            counts = self._counts.get(fact)
            if counts is None:
                counts = self._counts[fact] = [0, 0, None]
            counts[0] += row[7]
            buckets = row[9]
            if buckets is not None:
                counts[1] += row[8]
                hist = counts[2]
                # The row's list is the tally's own from here on (each row comes with a fresh one).
                counts[2] = buckets if hist is None else [a + b for a, b in zip(hist, buckets, strict=True)]

    def take(self) -> dict[Fact, Counts]:
        """What was counted since the last take; the tally starts again from nothing."""
        counts, self._counts = self._counts, {}
        return counts

    def __len__(self) -> int:
        return len(self._counts)


class _Histogram:
    __slots__ = ("buckets", "count", "sum_ns", "touched")

    def __init__(self, size: int) -> None:
        self.buckets = [0] * size
        self.count = 0
        self.sum_ns = 0
        self.touched = 0.0


class EventMetricStore:
    """The series made from events, safe to add to from pipelines and to collect from the API's thread.

    Register it once in a ``CollectorRegistry`` (it is a custom collector); ``add`` folds a tally in.
    """

    def __init__(self, config: EventMetricsConfig | None = None, *, clock: Any = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.config = config or EventMetricsConfig()
        self._requests: dict[tuple[str, str, str, str, str], list[float]] = {}
        self._durations: dict[tuple[str, str], _Histogram] = {}
        self._events: dict[tuple[str, str], list[float]] = {}
        self._errors: dict[tuple[str, str], list[float]] = {}
        self._values: dict[str, dict[str, float]] = {label: {} for label in CAPPED_LABELS}
        """Per capped label, each admitted value and when it was last used."""
        self.overflow: dict[str, int] = dict.fromkeys(CAPPED_LABELS, 0)
        """Per label, the events counted as ``__other__`` because the label was at its cap."""
        self._last_sweep = self._clock()

    def configure(self, config: EventMetricsConfig) -> None:
        """Take new options (prefix, caps, expiry); changed buckets start the histograms over."""
        with self._lock:
            if config.buckets != self.config.buckets:
                self._durations.clear()
            self.config = config

    def tally(self) -> EventTally:
        """A tally for one pipeline, with this store's buckets."""
        return EventTally(self.config.buckets)

    # -- folding ---------------------------------------------------------------------------------

    def add(self, counts: dict[Fact, Counts]) -> None:
        """Fold a tally's counts into the series, admitting label values under the caps."""
        if not counts:
            return
        with self._lock:
            now = self._clock()
            if now - self._last_sweep >= min(60.0, self.config.expire_after / 10):
                self._sweep(now)  # first, so the values that expired free their places under the caps
            label = self._label
            size = len(self.config.buckets) + 1
            for (service, endpoint, method, status, level, error_type, error), (n, dur, buckets) in counts.items():
                s = label("service", service, n, now)
                self._bump(self._events, (s, label("level", level, n, now)), n, now)
                if error:
                    self._bump(self._errors, (s, label("error_type", error_type, n, now)), n, now)
                if method is None:
                    continue
                e = label("endpoint", endpoint, n, now)
                code = "" if status is None else str(status)
                klass = _STATUS_CLASSES[status // 100 - 1] if status is not None and 100 <= status <= 599 else ""
                key = (s, e, label("method", method, n, now), label("status", code or None, n, now), klass)
                self._bump(self._requests, key, n, now)
                if buckets is not None and len(buckets) == size:  # (another size: counted before a reconfigure)
                    hist = self._durations.get((s, e))
                    if hist is None:
                        hist = self._durations[(s, e)] = _Histogram(size)
                    hist.buckets = [a + b for a, b in zip(hist.buckets, buckets, strict=True)]
                    hist.count += sum(buckets)
                    hist.sum_ns += dur
                    hist.touched = now

    def _label(self, name: str, value: str | None, n: int, now: float) -> str:
        if value is None:
            return ""
        values = self._values[name]
        if value in values or len(values) < self.config.label_value_cap:
            values[value] = now
            return value
        self.overflow[name] += n
        return OTHER

    @staticmethod
    def _bump(series: dict[Any, list[float]], key: Any, n: int, now: float) -> None:
        found = series.get(key)
        if found is None:
            series[key] = [n, now]
        else:
            found[0] += n
            found[1] = now

    def _sweep(self, now: float) -> None:
        """Drop series idle past ``expire_after`` and free the label values no live series uses."""
        self._last_sweep = now
        cutoff = now - self.config.expire_after
        counters: tuple[dict[Any, list[float]], ...] = (self._requests, self._events, self._errors)
        for series in counters:
            for key in [k for k, (_, touched) in series.items() if touched < cutoff]:
                del series[key]
        for key in [k for k, h in self._durations.items() if h.touched < cutoff]:
            del self._durations[key]
        for values in self._values.values():
            for value in [v for v, touched in values.items() if touched < cutoff]:
                del values[value]

    def sweep(self) -> None:
        """Expire idle series now (the store also does it by itself while events arrive)."""
        with self._lock:
            self._sweep(self._clock())

    # -- reading ---------------------------------------------------------------------------------

    def label_values(self, label: str) -> int:
        """How many distinct values ``label`` holds now (at most the cap; ``__other__`` not counted)."""
        with self._lock:
            return len(self._values[label])

    def series_count(self) -> int:
        with self._lock:
            return len(self._requests) + len(self._durations) + len(self._events) + len(self._errors)

    def collect(self) -> Iterator[Metric]:
        """The Prometheus families (prometheus_client calls this on every scrape)."""
        p = self.config.prefix
        with self._lock:
            requests = CounterMetricFamily(
                f"{p}http_requests",
                "HTTP requests seen in log lines.",
                labels=["service", "endpoint", "method", "status", "status_class"],
            )
            for req, (n, _) in self._requests.items():
                requests.add_metric(list(req), n)
            durations = HistogramMetricFamily(
                f"{p}http_request_duration_seconds",
                "Duration of the HTTP requests seen in log lines (event.duration).",
                labels=["service", "endpoint"],
            )
            bounds = [_le(b) for b in self.config.buckets] + ["+Inf"]
            for pair, hist in self._durations.items():
                cumulative: list[tuple[str, float]] = []
                running = 0
                for le, n in zip(bounds, hist.buckets, strict=True):
                    running += n
                    cumulative.append((le, running))
                durations.add_metric(list(pair), cumulative, hist.sum_ns / 1e9)
            events = CounterMetricFamily(
                f"{p}log_events", "Log events processed, by service and level.", labels=["service", "level"]
            )
            for pair, (n, _) in self._events.items():
                events.add_metric(list(pair), n)
            errors = CounterMetricFamily(
                f"{p}log_errors",
                "Log events tagged error, by service and error.type.",
                labels=["service", "error_type"],
            )
            for pair, (n, _) in self._errors.items():
                errors.add_metric(list(pair), n)
            overflow = CounterMetricFamily(
                "logferry_event_metrics_overflow",
                f"Events counted under the label value {OTHER} because the label had reached its cap.",
                labels=["label"],
            )
            for label, n in self.overflow.items():
                overflow.add_metric([label], n)
        yield from (requests, durations, events, errors, overflow)

    def describe(self) -> Iterator[Metric]:
        """Nothing to describe ahead: the names depend on the prefix, which may change (``configure``)."""
        return iter(())


def _le(bound: float) -> str:
    """A bucket bound as Prometheus' Go clients write it (``1.0``, ``2.5``)."""
    return str(floatToGoString(bound))
