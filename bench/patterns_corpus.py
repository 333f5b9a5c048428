"""Log lines written by real programs, each with the template it was written from (the pattern bench's truth).

``python -m bench.patterns_corpus`` runs, on loopback, real clients and servers that log through the
standard ``logging`` module — uvicorn serving a FastAPI app (its access and error logs), httpx and
urllib3 calling it, the Elasticsearch client against the local node (``scripts/services up``), and
kafka-python against the local broker when one answers — and records every record that was formatted
from a template with arguments: the line is ``record.getMessage()`` (what a log shows), its truth
the logger and ``record.msg`` (the format string the program logged it with). Nothing is typed to
match a miner. Written to ``bench/data/patterns.ndjson.gz`` (``{"line", "template"}`` per line).
"""

from __future__ import annotations

import contextlib
import gzip
import logging
import random
import socket
import threading
import time
from pathlib import Path
from typing import Any

import orjson

OUT = Path(__file__).resolve().parent / "data" / "patterns.ndjson.gz"
REQUESTS = 6000


class Recorder(logging.Handler):
    """Keeps (line, truth) of every record formatted from a template and arguments."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.rows: list[tuple[str, str]] = []
        self.lock_rows = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if not record.args or not isinstance(record.msg, str):
            return
        try:
            line = record.getMessage()
        except Exception:
            return
        if "\n" in line:
            line = line.split("\n", 1)[0]
        with self.lock_rows:
            self.rows.append((line, f"{record.name}\x1f{record.msg}"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_app(port: int) -> Any:
    import uvicorn
    from fastapi import FastAPI, HTTPException

    app = FastAPI()

    @app.get("/api/v1/users/{user_id}")
    def user(user_id: int) -> dict[str, Any]:
        if user_id % 7 == 0:
            raise HTTPException(404, f"user {user_id} not found")
        return {"id": user_id}

    @app.post("/api/v1/orders")
    def order(quantity: int = 1) -> dict[str, Any]:
        if quantity > 8:
            raise HTTPException(422, "too many")
        return {"ok": True}

    @app.get("/api/v1/crash/{n}")
    def crash(n: int) -> dict[str, Any]:
        raise RuntimeError(f"crash {n}")

    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="debug", access_log=True)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise SystemExit("uvicorn did not start")
        time.sleep(0.05)
    return server


def http_traffic(port: int, rng: random.Random) -> None:
    import httpx
    import urllib3

    pool = urllib3.PoolManager()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        for i in range(REQUESTS):
            choice = rng.random()
            try:
                if choice < 0.5:
                    client.get(f"/api/v1/users/{rng.randint(1, 5000)}")
                elif choice < 0.75:
                    client.post("/api/v1/orders", params={"quantity": rng.randint(1, 12)})
                elif choice < 0.8:
                    client.get(f"/api/v1/crash/{rng.randint(1, 99)}")
                else:
                    pool.request("GET", f"http://127.0.0.1:{port}/api/v1/users/{rng.randint(1, 5000)}?page={i}")
            except httpx.HTTPError:
                pass  # after a request that crashed, the server drops the kept-alive connection


def elasticsearch_traffic(rng: random.Random) -> None:
    from elasticsearch import Elasticsearch

    client = Elasticsearch("http://127.0.0.1:9200", request_timeout=10)
    try:
        client.info()
    except Exception as exc:
        print(f"Elasticsearch not reachable, skipped: {exc}")
        return
    index = f"bench-patterns-{rng.randint(0, 10**6)}"
    try:
        for i in range(1500):
            if i % 3 == 0:
                client.index(index=index, document={"n": i, "user": f"u-{rng.randint(1, 99)}"})
            elif i % 3 == 1:
                client.search(index=index, query={"term": {"n": rng.randint(1, 999)}})
            else:
                client.options(ignore_status=404).get(index=index, id=str(rng.randint(1, 10**6)))
    finally:
        client.options(ignore_status=404).indices.delete(index=index)


def kafka_traffic(rng: random.Random) -> None:
    """A producer and a consumer group member on the local broker: kafka-python logs its protocol steps."""
    try:
        from kafka import KafkaConsumer, KafkaProducer
        from kafka.errors import KafkaError
    except ImportError:
        return
    topic = f"bench-patterns-{rng.randint(0, 10**6)}"
    try:
        producer = KafkaProducer(bootstrap_servers="127.0.0.1:9092", request_timeout_ms=5000, linger_ms=5)
        for i in range(2000):
            producer.send(topic, f"line {i}".encode(), key=str(rng.randint(1, 50)).encode())
            if i % 100 == 0:
                producer.flush(timeout=10)
        producer.close(timeout=5)
        consumer = KafkaConsumer(
            topic,
            bootstrap_servers="127.0.0.1:9092",
            group_id=f"{topic}-group",
            auto_offset_reset="earliest",
            consumer_timeout_ms=3000,
            max_poll_records=50,
        )
        for _ in consumer:
            pass
        consumer.close()
    except KafkaError as exc:
        print(f"Kafka not reachable, skipped: {exc}")


def refused_traffic(rng: random.Random) -> None:
    """urllib3 retrying against a closed port: its retry and connection logs."""
    import urllib3

    port = free_port()
    pool = urllib3.PoolManager(retries=urllib3.Retry(total=2, backoff_factor=0))
    for i in range(150):
        with contextlib.suppress(urllib3.exceptions.HTTPError):
            pool.request("GET", f"http://127.0.0.1:{port}/api/v1/items/{rng.randint(1, 999)}?try={i}")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    recorder = Recorder()
    root = logging.getLogger()
    root.addHandler(recorder)
    root.setLevel(logging.DEBUG)
    rng = random.Random(args.seed)
    port = free_port()
    server = serve_app(port)
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error"):  # after uvicorn configured its own logging
        logging.getLogger(name).addHandler(recorder)
    try:
        http_traffic(port, rng)
        elasticsearch_traffic(rng)
        kafka_traffic(rng)
        refused_traffic(rng)
    finally:
        server.should_exit = True
        time.sleep(0.5)
    rows = list(recorder.rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(
        gzip.compress(
            b"".join(orjson.dumps({"line": line, "template": truth}) + b"\n" for line, truth in rows), mtime=0
        )
    )
    templates = {truth for _, truth in rows}
    print(f"{len(rows)} lines of {len(templates)} templates -> {args.out}")


if __name__ == "__main__":
    main()
