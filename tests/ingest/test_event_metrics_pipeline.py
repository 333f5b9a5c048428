"""The metrics made from events, through the real pipeline: the compiled chain and the Python chain count
alike, an endpoint explosion stays within the caps, and one-shot `ingest` writes them to a file."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.outcomes import EventCounts
from enrich.event_metrics import OTHER, EventMetricsConfig, EventMetricStore
from ingest.batch import Batcher
from ingest.document import serialize
from ingest.file_source import FileSource
from ingest.native_chain import CompiledTransform, transform_for
from ingest.pipeline import Pipeline
from ingest.registry import Registry
from ingest.transform import PythonTransform, Transform
from logferry.assemble import build_processors
from logferry.config import load_settings
from logferry.sample import generate_lines
from tests.enrich.test_event_metrics import exposition
from tests.golden.chain_golden import INPUT, decode_input

pytestmark = pytest.mark.integration


class NullSink:
    name = "null"
    counts = EventCounts()

    def write(self, batch: Any) -> None:
        return None

    def close(self) -> None:
        return None


def count_file(path: Path, tmp: Path, *, compiled: bool, config: EventMetricsConfig | None = None) -> EventMetricStore:
    settings = load_settings(None, data_dir=tmp, input={"paths": [str(path)]})
    store = EventMetricStore(config)
    source = FileSource(settings.input, Registry(tmp / f"registry-{compiled}.json"), once=True)
    processors = build_processors(settings)
    if compiled:
        transform: Transform = transform_for(processors, serialize, store.config.buckets)
        assert isinstance(transform, CompiledTransform) and transform.counts_facts, "no compiled chain counting"
    else:
        transform = PythonTransform(processors, serialize)
    Pipeline(source, transform, Batcher(settings.batch), NullSink(), event_metrics=store).run(once=True)
    return store


def test_the_compiled_and_the_python_chain_count_the_same_metrics(tmp_path: Path) -> None:
    """The golden corpus (sample, real loggers' lines, hypothesis-drawn lines) and a fresh sample."""
    lines = [line for _, line in (decode_input(r) for r in gzip.decompress(INPUT.read_bytes()).splitlines())]
    lines += [line for _, line in generate_lines(20_000, seed=3)]
    log = tmp_path / "app.log"
    log.write_bytes(b"".join(line.replace(b"\n", b" ") + b"\n" for line in lines))

    compiled = exposition(count_file(log, tmp_path, compiled=True))
    python = exposition(count_file(log, tmp_path, compiled=False))

    assert compiled == python
    assert sum(compiled["log_events_total"].values()) == len(lines)
    assert sum(compiled["http_requests_total"].values()) > 10_000


def test_100k_distinct_paths_stay_within_the_label_caps(tmp_path: Path) -> None:
    log = tmp_path / "explosion.log"
    with open(log, "wb") as f:
        for i in range(100_000):
            f.write(
                b'{"time":"2026-11-22T01:02:03.123Z","level":"info","msg":"request","method":"GET",'
                b'"url":"/catalog/item-%s/view","status":200,"responseTime":12,"service":"shop"}\n'
                % hex(i * 7919).encode()
            )
    store = count_file(log, tmp_path, compiled=True, config=EventMetricsConfig(label_value_cap=1000))
    got = exposition(store)

    endpoints = {dict(k)["endpoint"] for k in got["http_requests_total"]}
    assert len(endpoints) == 1001 and OTHER in endpoints
    assert store.label_values("endpoint") == 1000
    assert got["logferry_event_metrics_overflow_total"][(("label", "endpoint"),)] == 99_000
    assert sum(got["http_requests_total"].values()) == 100_000
    assert store.series_count() <= 2 * 1001 + 2


def test_one_shot_ingest_writes_the_metrics_to_a_file(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"".join(line + b"\n" for _, line in generate_lines(3000, seed=5)))
    out = tmp_path / "textfile" / "logferry.prom"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "logferry",
            "--data-dir",
            str(tmp_path / "data"),
            "ingest",
            str(log),
            "--metrics-file",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    families = {f.name: f for f in text_string_to_metric_families(out.read_text())}
    assert sum(s.value for s in families["log_events"].samples if s.name == "log_events_total") == 3000
    assert {"http_requests", "http_request_duration_seconds", "log_errors", "logferry_lines_read"} <= set(families)
