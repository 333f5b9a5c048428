"""Elasticsearch stopped for 30 s while `logferry ship --to elasticsearch` tails a growing file.

The shipper must block (backpressure: the registry stays put while nothing can be indexed), survive
the outage, and once the node is back deliver exactly the input: every line once, none missing.
Runs against a private node (see conftest) so the shared node of other suites stays up.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from conftest import all_docs
from elasticsearch import Elasticsearch

from tests.outage import GrowingLog, PrivateServer, registry_offset

OUTAGE_SECONDS = 30
MAX_LINES = 15_000


def app_line(seq: int) -> bytes:
    """A request line stamped now: every one is an event of today's index."""
    return orjson.dumps(
        {
            "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            "level": "error" if seq % 50 == 0 else "info",
            "message": f"GET /orders/{seq} 200",
            "seq": seq,
        }
    )


def indexed(client: Elasticsearch, prefix: str) -> int:
    client.indices.refresh(index=f"{prefix}-20*", allow_no_indices=True, ignore_unavailable=True)
    return int(client.count(index=f"{prefix}-20*", allow_no_indices=True, ignore_unavailable=True)["count"])


def poll(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout:.0f}s waiting for {what}"
        time.sleep(interval)


@pytest.mark.elasticsearch
@pytest.mark.integration
@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_elasticsearch_down_30s_during_ingestion_loses_and_duplicates_nothing(
    private_es: PrivateServer, tmp_path: Path
) -> None:
    prefix = f"lfoutage-{uuid.uuid4().hex[:8]}"
    client = Elasticsearch(private_es.url, request_timeout=30)
    data_dir = tmp_path / "data"
    log = GrowingLog(tmp_path / "logs" / "app.log", MAX_LINES, app_line)
    stderr_path = tmp_path / "ship.stderr"
    env = {
        **os.environ,
        "LOGFERRY_ELASTICSEARCH__RETRY_MAX_BACKOFF": "2",
        "LOGFERRY_ELASTICSEARCH__REQUEST_TIMEOUT": "10",
    }
    es_stopped = False
    ship: subprocess.Popen[bytes] | None = None
    try:
        log.start()
        with open(stderr_path, "wb") as stderr:
            ship = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "logferry",
                    "--data-dir",
                    str(data_dir),
                    "ship",
                    str(log.path),
                    "--to",
                    "elasticsearch",
                    "--es-url",
                    private_es.url,
                    "--index-prefix",
                    prefix,
                    "-v",
                ],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env=env,
            )
        poll(lambda: indexed(client, prefix) >= 500, 90, "the first 500 documents")

        es_stopped = True
        private_es.stop()
        outage_started = time.monotonic()
        size_at_stop = log.path.stat().st_size
        time.sleep(5)
        held_offset = registry_offset(data_dir)
        while time.monotonic() - outage_started < OUTAGE_SECONDS:
            assert ship.poll() is None, f"ship exited during the outage:\n{stderr_path.read_text()[-3000:]}"
            time.sleep(1)
        assert registry_offset(data_dir) == held_offset, "the registry advanced while nothing could be indexed"
        assert log.path.stat().st_size > size_at_stop, "lines kept arriving during the outage"
        assert held_offset < log.path.stat().st_size

        private_es.start()
        es_stopped = False
        total = log.stop()
        poll(lambda: indexed(client, prefix) >= total, 180, f"all {total} lines indexed after the restart")

        ship.send_signal(signal.SIGTERM)
        assert ship.wait(60) == 0, stderr_path.read_text()[-3000:]
        docs = all_docs(client, f"{prefix}-20*")
        seqs = sorted(int(hit["_source"]["seq"]) for hit in docs)
        assert seqs == list(range(total)), "every line exactly once"
        assert len({hit["_id"] for hit in docs}) == total
        assert registry_offset(data_dir) == log.path.stat().st_size, "the registry reached the end of the file"
        assert "retry" in stderr_path.read_text(), "the outage was seen and retried"
    finally:
        log.stop()
        if ship is not None and ship.poll() is None:
            ship.kill()
            ship.wait(30)
        if es_stopped:
            private_es.start()
        client.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}*")
        client.indices.delete(index=f"{prefix}*", ignore_unavailable=True, allow_no_indices=True)
        client.close()
