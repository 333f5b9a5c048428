"""Helpers for the scale-out tests: real files, the real CLI, real Kafka and Elasticsearch."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from elasticsearch import ApiError, Elasticsearch, helpers
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError

from enrich.event_id import event_id
from ingest.registry import Registry
from logferry.sample import generate_lines

PROCESSING_TIME_SLACK = dt.timedelta(minutes=10)


def logferry(*args: str, data_dir: Path, env: dict[str, str] | None = None, stderr: Any = None) -> subprocess.Popen:
    """Start ``python -m logferry --data-dir DATA ARGS…`` as a user would."""
    return subprocess.Popen(
        [sys.executable, "-m", "logferry", "--data-dir", str(data_dir), *args],
        stdout=subprocess.PIPE,
        stderr=stderr if stderr is not None else subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )


def finish(process: subprocess.Popen, timeout: float = 180) -> str:
    """Wait for a CLI run to end by itself and return its stderr; fail with it if it did not exit 0."""
    try:
        _, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
        pytest.fail(f"{process.args} did not finish within {timeout}s:\n{(err or b'').decode()[-3000:]}")
    text = (err or b"").decode(errors="replace")
    assert process.returncode == 0, f"{process.args} exited {process.returncode}:\n{text[-3000:]}"
    return text


def run(*args: str, data_dir: Path, env: dict[str, str] | None = None, timeout: float = 180) -> str:
    return finish(logferry(*args, data_dir=data_dir, env=env), timeout)


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.1, log: Path | None = None
) -> None:
    """Poll ``condition`` until true; fail naming ``what`` (and the tail of ``log``) after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            tail = log.read_text(errors="replace")[-4000:] if log is not None and log.exists() else ""
            pytest.fail(f"timed out after {timeout}s waiting for {what}\n{tail}")
        time.sleep(interval)


def write_logs(directory: Path, lines: int, files: int, *, extra: list[bytes] = ()) -> list[Path]:
    """Generated application lines (three days old, so their times differ from processing time),
    spread round-robin over ``files`` files; ``extra`` lines go to their own file."""
    directory.mkdir(parents=True, exist_ok=True)
    end = (dt.datetime.now(dt.UTC) - dt.timedelta(days=3)).timestamp()
    paths = [directory / f"app-{i:02d}.log" for i in range(files)]
    handles = [open(p, "wb") for p in paths]  # noqa: SIM115 - closed below
    try:
        for i, (_, line) in enumerate(generate_lines(lines, seed=7, end=end)):
            handles[i % files].write(line + b"\n")
    finally:
        for h in handles:
            h.close()
    if extra:
        odd = directory / "odd.log"
        odd.write_bytes(b"".join(line + b"\n" for line in extra))
        paths.append(odd)
    return paths


def expected_ids(data_dir: Path, paths: list[Path]) -> set[str]:
    """The id of every line of these files, from the shipper's registry (file identity) and offsets."""
    registry = Registry(data_dir / "registry.json")
    ids = set()
    for path in paths:
        st = path.stat()
        state = registry.get(f"{st.st_dev}:{st.st_ino}")
        assert state is not None, f"{path} is not in the registry"
        assert state.offset == st.st_size, f"{path}: registry at {state.offset} of {st.st_size} bytes"
        offset = 0
        for line in path.read_bytes().split(b"\n")[:-1]:
            ids.add(event_id(state.source_id, offset))
            offset += len(line) + 1
    return ids


def primaries_ready(client: Elasticsearch, prefix: str) -> None:
    """Wait until every ``<prefix>-*`` index has its primary shard started.

    An indexer's first bulk request creates the day's index; until its shard starts (seconds on a
    loaded machine), a count or search on it answers 503 rather than a number.
    """
    health = client.cluster.health(index=f"{prefix}-*", wait_for_status="yellow", timeout="90s")
    assert not health["timed_out"], f"the {prefix}-* indices' shards did not start: {health}"


def es_count(client: Elasticsearch, prefix: str) -> int:
    """Documents in the daily indices. While an indexer runs it may create the next day's index between
    the health check and the count; that 503 is waited out too (up to 90 s), like the first one."""
    deadline = time.monotonic() + 90
    while True:
        primaries_ready(client, prefix)
        try:
            client.indices.refresh(index=f"{prefix}-*", allow_no_indices=True, ignore_unavailable=True)
            return int(client.count(index=f"{prefix}-2*", allow_no_indices=True, ignore_unavailable=True)["count"])
        except ApiError as exc:
            if exc.meta.status != 503 or time.monotonic() >= deadline:
                raise
            time.sleep(0.5)


def es_docs(client: Elasticsearch, prefix: str) -> dict[str, dict[str, Any]]:
    """Every document in the daily indices (not the dead-letter index), by ``_id``."""
    primaries_ready(client, prefix)
    client.indices.refresh(index=f"{prefix}-*", allow_no_indices=True, ignore_unavailable=True)
    docs: dict[str, dict[str, Any]] = {}
    for hit in helpers.scan(client, index=f"{prefix}-2*", query={"query": {"match_all": {}}}, size=2000):
        assert hit["_id"] not in docs, f"{hit['_id']} stored twice (in {hit['_index']})"
        docs[hit["_id"]] = hit["_source"]
    return docs


def comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """A document without processing times: ``event.ingested`` always, and ``@timestamp`` where the line
    had no time of its own (then the processing time stands in, within minutes of ``event.ingested``)."""
    out = orjson.loads(orjson.dumps(doc))
    event = out.get("event", {})
    ingested = event.pop("ingested")
    stamp = out.get("@timestamp")
    if stamp and abs(_time(stamp) - _time(ingested)) < PROCESSING_TIME_SLACK:
        out["@timestamp"] = "<processing time>"
    return out


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def scaleout_topic(kafka_admin: KafkaAdminClient) -> Iterator[Callable[[int], str]]:
    """Makes fresh topics with a given partition count; all are deleted afterwards."""
    made: list[str] = []

    def make(partitions: int) -> str:
        topic = f"t-lines-{uuid.uuid4().hex[:10]}"
        kafka_admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
        made.append(topic)
        return topic

    yield make
    with contextlib.suppress(KafkaError):
        if made:
            kafka_admin.delete_topics(made)
