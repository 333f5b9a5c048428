"""The pipeline's counters, in one prometheus-client registry that ``/metrics`` exposes."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

LINES_READ = Counter("logferry_lines_read", "Lines read from sources.", ["source"], registry=REGISTRY)
BYTES_READ = Counter("logferry_bytes_read", "Bytes read from sources.", ["source"], registry=REGISTRY)
EVENTS_WRITTEN = Counter("logferry_events_written", "Events a sink accepted.", ["sink"], registry=REGISTRY)
EVENTS_TAGGED = Counter("logferry_events_tagged", "Events carrying each tag.", ["tag"], registry=REGISTRY)
COMPONENT_EVENTS = Counter(
    "logferry_component_events",
    "What a component did to events besides passing them on: dead_lettered, truncated, retried (events) or "
    "redacted (values), by reason (core/outcomes.py).",
    ["component", "outcome", "reason"],
    registry=REGISTRY,
)
PROCESSOR_ERRORS = Counter(
    "logferry_processor_errors",
    "Events a processor raised on (kept, tagged).",
    ["processor"],
    registry=REGISTRY,
)
BATCH_SECONDS = Histogram(
    "logferry_batch_write_seconds", "Time a sink took to accept one batch.", ["sink"], registry=REGISTRY
)
BYTES_BEHIND = Gauge(
    "logferry_file_bytes_behind",
    "Bytes written to the files of an input (a configured glob) and not read yet.",
    ["input"],
    registry=REGISTRY,
)
SINK_RETRIES = Counter("logferry_sink_retries", "Retried sink requests.", ["sink"], registry=REGISTRY)
FILES_SKIPPED = Counter(
    "logferry_files_skipped",
    "Files matched by a glob but not read (binary, compressed), by reason.",
    ["reason"],
    registry=REGISTRY,
)
