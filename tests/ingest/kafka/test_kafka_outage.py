"""The broker stops while `logferry ship --to kafka` tails a growing file, and comes back.

While nothing can be acknowledged the shipper keeps running, retries the batch, and its registry stays
put; once the broker is back every line of the file is in the topic (at least once: a batch the broker
took just before it stopped may be sent again) with the headers that name its file and offset. Runs
against a private broker on its own ports, started and stopped with ``scripts/services``, so the shared
broker of the other suites stays up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from kafka import KafkaConsumer, TopicPartition

from tests.ingest.kafka.conftest import wait_until
from tests.outage import GrowingLog, PrivateServer, private_server, registry_offset

MAX_LINES = 20_000

pytestmark = [pytest.mark.kafka, pytest.mark.integration, pytest.mark.e2e]


@pytest.fixture(scope="module")
def private_kafka() -> Iterator[PrivateServer]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        pytest.skip("KAFKA_BOOTSTRAP_SERVERS points at an external broker; the outage test needs one it can stop")
    port = int(os.environ.get("LOGFERRY_TEST_OUTAGE_KAFKA_PORT", "9192"))
    heap = os.environ.get("LOGFERRY_TEST_OUTAGE_KAFKA_HEAP", "256m")
    settings = {"LOGFERRY_KAFKA_PORT": str(port), "LOGFERRY_KAFKA_CONTROLLER_PORT": str(port + 1)}
    yield from private_server("kafka", port, {**settings, "LOGFERRY_KAFKA_HEAP": heap})


def seq_line(seq: int) -> bytes:
    return orjson.dumps({"seq": seq})


def records_in(bootstrap: str, topic: str) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        return sum(consumer.end_offsets([TopicPartition(topic, p) for p in partitions]).values())
    finally:
        consumer.close()


def retries(stderr: Path) -> int:
    return stderr.read_text(errors="replace").count("kafka write failed")


@pytest.mark.timeout(900)
def test_broker_down_while_shipping_holds_the_registry_and_loses_no_line(
    private_kafka: PrivateServer, tmp_path: Path
) -> None:
    topic = f"t-outage-{uuid.uuid4().hex[:10]}"
    data_dir = tmp_path / "data"
    log = GrowingLog(tmp_path / "logs" / "app.log", MAX_LINES, seq_line)
    stderr_path = tmp_path / "ship.stderr"
    env = {**os.environ, "LOGFERRY_KAFKA__FLUSH_TIMEOUT": "5", "LOGFERRY_KAFKA__PARTITIONS": "2"}
    command = [sys.executable, "-m", "logferry", "--data-dir", str(data_dir), "ship", str(log.path)]
    command += ["--to", "kafka", "--kafka", private_kafka.bootstrap, "--topic", topic, "-v"]
    broker_stopped = False
    ship: subprocess.Popen[bytes] | None = None
    try:
        log.start()
        wait_until(lambda: log.path.exists(), 30, "the log file")
        with open(stderr_path, "wb") as stderr:
            ship = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, env=env)
        wait_until(lambda: registry_offset(data_dir) > 0, 120, "the first acknowledged batch", log=stderr_path)

        broker_stopped = True
        private_kafka.stop()
        wait_until(lambda: retries(stderr_path) >= 1, 120, "a failed write to be retried", log=stderr_path)
        held_offset = registry_offset(data_dir)
        wait_until(lambda: retries(stderr_path) >= 3, 180, "three failed writes", log=stderr_path)
        assert ship.poll() is None, f"ship exited during the outage:\n{stderr_path.read_text()[-3000:]}"
        assert registry_offset(data_dir) == held_offset, "the registry advanced while the broker was down"
        assert held_offset < log.path.stat().st_size, "lines kept arriving during the outage"

        private_kafka.start()
        broker_stopped = False
        total = log.stop()
        size = log.path.stat().st_size
        wait_until(lambda: registry_offset(data_dir) == size, 240, "the registry to reach the end", log=stderr_path)
        ship.send_signal(signal.SIGTERM)
        assert ship.wait(60) == 0, stderr_path.read_text()[-3000:]

        lines = log.path.read_bytes().split(b"\n")[:-1]
        assert len(lines) == total
        offsets, offset = {}, 0
        for line in lines:
            offsets[offset] = line
            offset += len(line) + 1
        shipped = records_in(private_kafka.bootstrap, topic)
        assert shipped >= total
        consumer = KafkaConsumer(
            topic,
            bootstrap_servers=private_kafka.bootstrap,
            auto_offset_reset="earliest",
            consumer_timeout_ms=15_000,
        )
        seen: dict[int, bytes] = {}
        try:
            for _, record in zip(range(shipped), consumer, strict=False):
                headers = dict(record.headers)
                assert headers["path"] == str(log.path).encode()
                seen[int(headers["offset"])] = record.value
        finally:
            consumer.close()
        assert seen == offsets, "every line of the file is in the topic under its own offset"
    finally:
        log.stop()
        if ship is not None and ship.poll() is None:
            ship.kill()
            ship.wait(30)
        if broker_stopped:
            private_kafka.start()
